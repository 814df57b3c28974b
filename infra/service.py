"""What every local service (DynamoDB Local, the Wix sandbox, the local stack) has in common:
started and stopped explicitly, or used as a context manager that always stops it; its child
processes, which never outlive the process that started them; and its port, which must be its own.

A child is started in its own session, so that Ctrl-C at a terminal reaches only us and we stop it
in order. That also means no signal to us reaches it: so every child is remembered here and
stopped at exit, SIGTERM (which by default ends Python without any cleanup) stops them before we
go, and on Linux the kernel kills a child whose parent dies any other way (SIGKILL included).
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType, TracebackType
from typing import Any, Final, Self, TypeVar

ServiceT = TypeVar("ServiceT", bound="LocalService")
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
_STOP_GRACE_SECONDS: Final = 10.0
_PR_SET_PDEATHSIG: Final = 1


class ServiceStartError(RuntimeError):
    """A service could not start; the message says why and what to do."""


class PortInUseError(ServiceStartError):
    """The port a service was given is held by another process: using it would mean talking to
    that process (another DynamoDB Local's database, say) while announcing our own."""

    def __init__(self, service: str, port: int) -> None:
        super().__init__(
            f"{service} cannot start: port {port} is already in use by another process; "
            "stop that process or choose another port"
        )
        self.port = port


class LocalService(ABC):
    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> object: ...

    def __enter__(self) -> Self:
        # A start that fails halfway (or is interrupted) leaves no __exit__ to stop what it began.
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


# --- ports ------------------------------------------------------------------------------------


@contextmanager
def claiming_port(service: str, port: int) -> Iterator[None]:
    """Around a bind: a port held by another process is a ``PortInUseError`` naming it."""
    try:
        yield
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(service, port) from error
        raise


def ensure_port_free(service: str, port: int) -> None:
    """For a service that binds its port in a child (DynamoDB Local, on every address): refuse
    before starting it, as the child's own failure would come after we had found the port
    answering, and taken the other process for ours."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers do: a socket of ours closed a moment ago (TIME_WAIT) holds no port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with claiming_port(service, port):
            probe.bind(("", port))


# --- child processes --------------------------------------------------------------------------

_children: weakref.WeakSet[subprocess.Popen[Any]] = weakref.WeakSet()
_children_lock = threading.RLock()
_prctl: Callable[..., int] | None = (
    ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
)


def start_child(command: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(command, **options)`` in a session of its own, stopped with us."""
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread:
        _stop_children_on_sigterm()
    # The kernel's parent is the thread that forks: a child started from a thread that ends
    # would be killed with that thread, so only the main thread's children get this.
    preexec = _die_with_parent(os.getpid()) if on_main_thread and _prctl else None
    process: subprocess.Popen[Any] = subprocess.Popen(  # noqa: S603 (the callers' fixed commands)
        command, start_new_session=True, preexec_fn=preexec, **options
    )
    with _children_lock:
        _children.add(process)
    return process


def stop_child(process: subprocess.Popen[Any], timeout_seconds: float = _STOP_GRACE_SECONDS) -> int:
    """SIGTERM its process group, SIGKILL it if it has not exited in time; its exit code."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    return process.returncode


def stop_children(timeout_seconds: float = _STOP_GRACE_SECONDS) -> None:
    """Every child still running: SIGTERM at once, SIGKILL for those not gone in time."""
    with _children_lock:
        running = [process for process in _children if process.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout_seconds
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[Any], signal_number: int) -> None:
    """The child leads its own group (its session): whatever it started goes with it."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal_number)
    if signal_number == signal.SIGTERM:
        # A paused child (SIGSTOP) acts on SIGTERM only once it runs again.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGCONT)


def _die_with_parent(parent_pid: int) -> Callable[[], None]:
    def arrange() -> None:
        assert _prctl is not None
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before the line above
            os._exit(1)

    return arrange


def _stop_children_on_sigterm() -> None:
    """Where SIGTERM would end us at once (no handler of ours or the caller's), it first stops our
    children, then ends us as it would have."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate_with_children)


def _terminate_with_children(signal_number: int, frame: FrameType | None) -> None:
    stop_children()
    signal.signal(signal_number, signal.SIG_DFL)
    os.kill(os.getpid(), signal_number)


atexit.register(stop_children)


# --- the foreground commands ------------------------------------------------------------------


def serve_in_foreground(
    service: ServiceT,
    on_started: Callable[[ServiceT], object],
    running: Callable[[ServiceT], bool] = lambda service: True,
) -> None:
    """What a ``python -m`` command does with its service: start it, call ``on_started`` (say
    where it is), serve until SIGTERM or SIGINT (or until ``running`` says it has ended), stop it.
    Either signal also interrupts a start that hangs; a start that fails ends the program with
    its message rather than a traceback."""
    stopping = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        stopping.set()

    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, signal.default_int_handler)
    try:
        with service:
            for signal_number in STOP_SIGNALS:
                signal.signal(signal_number, request_stop)
            on_started(service)
            while running(service) and not stopping.wait(0.5):
                pass
    except ServiceStartError as error:
        sys.exit(str(error))
    except KeyboardInterrupt:
        sys.exit(128 + signal.SIGINT)
