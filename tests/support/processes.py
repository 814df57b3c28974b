"""A local service's command run as a person runs it, and what is left of it and its children,
read from /proc (Linux): a child started in a session of its own gets no signal sent to its
parent's group, so only looking at the processes themselves shows whether it went too."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final, Self

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
_PROC: Final = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcessId:
    """A pid with its start time, so that a pid reused by a new process is not taken for it."""

    pid: int
    start_ticks: int


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, None once it is gone."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name, in parentheses, may hold spaces and parentheses: fields follow the last.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[19])


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]


def descendants(pid: int) -> set[ProcessId]:
    """The processes ``pid`` started, and theirs, now."""
    children: dict[int, list[ProcessId]] = {}
    for candidate in _all_pids():
        stat = _stat(candidate)
        if stat is not None:
            children.setdefault(stat[1], []).append(ProcessId(candidate, stat[2]))
    found: set[ProcessId] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child.pid)
    return found


def still_running(processes: set[ProcessId]) -> set[ProcessId]:
    """Those not gone (a zombie has exited: only its parent's wait is missing)."""
    running = set()
    for process in processes:
        stat = _stat(process.pid)
        if stat is not None and stat[2] == process.start_ticks and stat[0] != "Z":
            running.add(process)
    return running


def command_line(process: ProcessId) -> str:
    try:
        return (_PROC / str(process.pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return "(gone)"


def running_with_argument(argument: str) -> list[str]:
    """Command lines of running processes that have this argument (a port, say)."""
    found = []
    for pid in _all_pids():
        try:
            arguments = (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        stat = _stat(pid)
        if argument.encode() in arguments and stat is not None and stat[0] != "Z":
            found.append(b" ".join(arguments).decode(errors="replace"))
    return found


class ForegroundCommand:
    """``python <arguments>`` (``-m infra.local_stack``, say) in a session of its own, as a
    terminal would run it, where no signal of ours reaches it but those we send; its output,
    stdout and stderr, kept line by line."""

    def __init__(self, *arguments: str) -> None:
        python_path = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "functions")])
        self.process = subprocess.Popen(
            [sys.executable, *arguments],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        self.output: list[str] = []
        self._seen: set[ProcessId] = set()
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def wait_for_line(self, text: str, timeout_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            if text in line:
                return
        raise AssertionError(f"no line with {text!r} in time; it printed: {''.join(self.output)}")

    def children(self) -> set[ProcessId]:
        """What it runs now, besides itself (remembered, to be cleaned up if a test fails)."""
        found = descendants(self.process.pid)
        self._seen |= found
        return found

    def wait_for_child(self, text: str, timeout_seconds: float = 30.0) -> None:
        """Until it runs a process with ``text`` in its command line."""
        deadline = time.monotonic() + timeout_seconds
        while not any(text in command_line(child) for child in self.children()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no child with {text!r}; it printed {''.join(self.output)}")
            time.sleep(0.02)

    def wait(self, timeout_seconds: float = 30.0) -> int:
        return self.process.wait(timeout=timeout_seconds)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """A test that failed leaves nothing of it: neither it nor any process it started."""
        self.children()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for leftover in still_running(self._seen):
            os.kill(leftover.pid, signal.SIGKILL)
