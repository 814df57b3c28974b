"""The README's ``sam local`` commands run as a person runs them: each line through bash, in a copy
of the working tree (so ``.aws-sam/`` of the checkout is left alone), with the SAM CLI of
``.venv-sam`` and a Python 3.13 on the PATH; long-running ones in their own process group."""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any, Final

from infra.sam.build import python313, sam_executable
from infra.sam.lambda_image import docker_engine_problem

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
BRIDGE_HOST: Final = "172.17.0.1"
"""Docker's bridge address of the host on Linux, as the README's commands name it."""
LINKED: Final = (".venv", ".venv-sam")
"""Left where they are and linked into the copy: the README's commands use them by path."""


def sam_tests_problem() -> str | None:
    """Why the SAM tests cannot run here (None when they can)."""
    machine = f"{platform.system()} {platform.machine()}"
    if machine != "Linux x86_64":
        return f"the README's sam local commands are for Linux on x86_64 (this is {machine})"
    return docker_engine_problem()


def bridge_address() -> str | None:
    """The address of Docker's bridge (``docker0``) on this machine, if there is one."""
    completed = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "docker0"],
        capture_output=True,
        text=True,
        check=False,
    )
    fields = completed.stdout.split()
    return fields[fields.index("inet") + 1].split("/")[0] if "inet" in fields else None


def copy_working_tree(destination: Path) -> Path:
    """The checkout's files as they are now (tracked and new, not ignored), into ``destination``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (entry.decode() for entry in listed)):
        source = REPO_ROOT / name
        if not source.is_file():
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        target.chmod(source.stat().st_mode)
    for name in LINKED:
        (destination / name).symlink_to(REPO_ROOT / name)
    return destination


def sam_environment() -> dict[str, str]:
    """The environment the README's commands run in: ``sam`` and ``python3.13`` on the PATH."""
    sam = sam_executable()
    python = python313()
    path = [str(sam.parent), *([str(python.parent)] if python else []), os.environ["PATH"]]
    return {**os.environ, "PATH": os.pathsep.join(path), "SAM_CLI_TELEMETRY": "0"}


def shell(
    command: str, cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """One README command through bash, as typed; fails with what it printed."""
    completed = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{command}\nexit {completed.returncode}\n{completed.stdout[-3000:]}\n"
        f"{completed.stderr[-5000:]}"
    )
    return completed


def lambda_answer(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """What ``sam local invoke`` printed as the function's answer (its last line of output)."""
    lines = completed.stdout.strip().splitlines()
    assert lines, f"no answer on stdout:\n{completed.stderr[-3000:]}"
    answer: dict[str, Any] = json.loads(lines[-1])
    return answer


def port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class Foreground:
    """A command a person leaves running in its own terminal (``make sandbox``, ``sam local
    start-api``): started in its own process group, output to a log file, stopped by Ctrl-C."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.log = log
        self._log: IO[bytes] = log.open("wb")
        self._process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float) -> None:
        """Until it has printed ``text`` (it is up), or fail with what it printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self._process.poll() is not None:
                raise AssertionError(f"{self.command} exited:\n{self.output()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{self.command}: no {text!r} in time:\n{self.output()[-3000:]}")

    def stop(self, timeout: float = 30) -> None:
        """Ctrl-C to its process group, as in a terminal; killed if it does not stop in time."""
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGINT)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._log.close()
