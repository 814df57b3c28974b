"""Run the sandbox as a child process, with the one command a person would type, and stop it clean.

For the local stack and for tests that must see the sandbox exactly as ``make sandbox`` runs it.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Final

from infra.service import LocalService, ServiceStartError, start_child, stop_child
from infra.wix_sandbox.client import SandboxClient

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
_KEPT_OUTPUT_LINES: Final = 200
_URL: Final = re.compile(r"Wix sandbox on (http://[0-9.]+:(\d+))")


class SandboxProcessError(ServiceStartError):
    """The sandbox process did not start; the message carries what it printed."""


class SandboxProcess(LocalService):
    """``python -m infra.wix_sandbox`` with the given arguments; use as a context manager.

    ``SandboxProcess("--webhook-url", url, "--resend-compression", "3600")``
    """

    def __init__(
        self, *arguments: str, port: int = 0, startup_timeout_seconds: float = 10.0
    ) -> None:
        self.arguments = ("--port", str(port), *arguments)
        self._startup_timeout_seconds = startup_timeout_seconds
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._startup_lines: queue.Queue[str | None] = queue.Queue()
        self._started = threading.Event()
        self.output: deque[str] = deque(maxlen=_KEPT_OUTPUT_LINES)
        self.base_url = ""
        self.port = 0

    def start(self) -> SandboxProcess:
        python_path = os.pathsep.join(
            filter(
                None, [str(REPO_ROOT), str(REPO_ROOT / "functions"), os.environ.get("PYTHONPATH")]
            )
        )
        self._process = start_child(
            [sys.executable, "-m", "infra.wix_sandbox", *self.arguments],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        match = self._wait_for_url()
        if match is None:
            self.stop()
            raise SandboxProcessError(
                "the Wix sandbox did not start: " + ("".join(self.output).strip() or "no output")
            )
        self.base_url, self.port = match.group(1), int(match.group(2))
        self._started.set()
        return self

    def _wait_for_url(self) -> re.Match[str] | None:
        deadline = time.monotonic() + self._startup_timeout_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._startup_lines.get(timeout=remaining)
            except queue.Empty:
                return None
            if line is None:
                return None
            match = _URL.search(line)
            if match:
                return match
        return None

    def _read_output(self) -> None:
        """Keep the pipe drained (stdout and stderr); ``start`` sees the lines until it is up."""
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.output.append(line)
            if not self._started.is_set():
                self._startup_lines.put(line)
        self._startup_lines.put(None)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def client(self) -> SandboxClient:
        return SandboxClient(self.base_url)

    def stop(self, timeout_seconds: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited in time; returns its exit code."""
        process = self._process
        if process is None:
            return None
        stop_child(process, timeout_seconds)
        if self._reader is not None:
            self._reader.join(timeout=timeout_seconds)
        if process.stdout is not None:
            process.stdout.close()
        return process.returncode
