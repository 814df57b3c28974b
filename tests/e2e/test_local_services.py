"""Every service our tools start stops what it started on SIGTERM and SIGINT, and refuses, naming
the port, to start on a port another process holds."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from infra.local_stack.dynamodb_local import free_loopback_port
from tests.support.processes import (
    ForegroundCommand,
    ProcessId,
    command_line,
    running_with_argument,
    still_running,
)

pytestmark = pytest.mark.integration

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
# A test session's fixtures, in a process of their own: the services used as libraries.
AS_FIXTURES = """
import time
from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.wix_sandbox import SandboxProcess
with DynamoDBLocal() as dynamodb, SandboxProcess() as sandbox:
    print("serving", flush=True)
    time.sleep(120)
"""


@dataclass(frozen=True)
class Service:
    """How a person starts it, the line that says it serves, and what it runs besides itself."""

    arguments: Callable[[list[int]], list[str]]
    ports: int
    ready: str
    children: tuple[str, ...]


SERVICES = {
    "make dynamodb-local": Service(
        lambda ports: ["-m", "infra.sam.local_table", "--port", str(ports[0])],
        ports=1,
        ready="DynamoDB Local on",
        children=("DynamoDBLocal.jar",),
    ),
    "make sandbox": Service(
        lambda ports: ["-m", "infra.wix_sandbox", "--port", str(ports[0])],
        ports=1,
        ready="Ctrl-C stops",
        children=(),
    ),
    "make local": Service(
        lambda ports: [
            "-m",
            "infra.local_stack",
            *("--http-port", str(ports[0]), "--sandbox-port", str(ports[1])),
            *("--dynamodb-port", str(ports[2])),
        ],
        ports=3,
        ready="Ctrl-C stops everything.",
        children=("DynamoDBLocal.jar", "-m infra.wix_sandbox", "runtime.py"),
    ),
}


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
        return True


def distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_loopback_port())
    return sorted(ports)


@contextmanager
def occupied_port() -> Iterator[int]:
    """A port someone else listens on (on 127.0.0.1 only, as most servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def left_running(started: set[ProcessId], grace_seconds: float = 5.0) -> list[str]:
    """What still runs once the processes have had a moment to exit: one the kernel is still
    tearing down (its command line already empty) is not left running, one that stays is."""
    deadline = time.monotonic() + grace_seconds
    while (running := still_running(started)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [command_line(process) for process in running]


@pytest.mark.parametrize("signal_number", SIGNALS)
@pytest.mark.parametrize("name", SERVICES)
def test_a_signal_stops_the_service_and_everything_it_started(
    name: str, signal_number: signal.Signals
) -> None:
    service = SERVICES[name]
    ports = distinct_free_ports(service.ports)
    with ForegroundCommand(*service.arguments(ports)) as command:
        command.wait_for_line(service.ready)
        started = command.children()
        for child in service.children:
            assert any(child in command_line(process) for process in started), child

        os.kill(command.process.pid, signal_number)

        assert command.wait() == 0, "".join(command.output)
    assert left_running(started) == []
    assert [port for port in ports if not port_is_free(port)] == []


@pytest.mark.parametrize("name", ["make dynamodb-local", "make local"])
def test_a_signal_while_starting_stops_what_was_started(name: str) -> None:
    service = SERVICES[name]
    with ForegroundCommand(*service.arguments(distinct_free_ports(service.ports))) as command:
        command.wait_for_child("DynamoDBLocal.jar")

        os.kill(command.process.pid, signal.SIGTERM)

        assert command.wait() != 0
        assert left_running(command.children()) == []
        assert service.ready not in "".join(command.output)


@pytest.mark.parametrize(
    "signal_number",
    [*SIGNALS, pytest.param(signal.SIGKILL, id="SIGKILL")],
)
def test_a_process_using_the_services_takes_them_along_however_it_ends(
    signal_number: signal.Signals,
) -> None:
    """SIGTERM by default ends Python without running any cleanup, SIGKILL leaves it no chance:
    its DynamoDB Local and sandbox go all the same."""
    with ForegroundCommand("-c", AS_FIXTURES) as command:
        command.wait_for_line("serving")
        started = command.children()
        assert any("DynamoDBLocal.jar" in command_line(process) for process in started)
        assert any("-m infra.wix_sandbox" in command_line(process) for process in started)

        os.kill(command.process.pid, signal_number)

        command.wait()
        assert left_running(started) == []


@pytest.mark.parametrize("taken", range(3), ids=["http", "sandbox", "dynamodb"])
def test_the_local_stack_refuses_a_port_another_process_holds(taken: int) -> None:
    """And stops what it had started before it found out."""
    with occupied_port() as port:
        ports = distinct_free_ports(3)
        ports[taken] = port
        with ForegroundCommand(*SERVICES["make local"].arguments(ports)) as command:
            assert command.wait() != 0
        output = "".join(command.output)

        assert f"port {port} is already in use by another process" in output
        assert "Traceback" not in output
        assert "Ctrl-C stops" not in output
        assert [running_with_argument(str(other)) for other in ports] == [[], [], []]


@pytest.mark.parametrize("name", ["make dynamodb-local", "make sandbox"])
def test_a_service_refuses_a_port_another_process_holds(name: str) -> None:
    with occupied_port() as port:
        with ForegroundCommand(*SERVICES[name].arguments([port])) as command:
            assert command.wait() != 0
        output = "".join(command.output)

        assert f"port {port} is already in use by another process" in output
        assert "Traceback" not in output
        assert running_with_argument(str(port)) == []
