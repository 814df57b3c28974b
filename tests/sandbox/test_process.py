"""The sandbox as its own process, started by the one command and stopped with nothing left."""

from __future__ import annotations

import json
import os
import resource
import socket
from pathlib import Path

import jwt
import pytest

from infra.local_stack.dynamodb_local import free_loopback_port
from infra.wix_sandbox import SandboxProcess, SandboxProcessError
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import INSTANCE_ID, KeyPair
from tests.support.wix_http import WixHttp


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have exited (and were waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_starting_and_stopping_the_process_leaves_no_process_or_port_behind() -> None:
    cpu_before = children_cpu_seconds()
    process = SandboxProcess("--site", INSTANCE_ID)
    process.start()
    pid, port = process.pid, process.port
    assert pid is not None
    try:
        assert process.client().health()["status"] == "ok"
        assert WixHttp(process.base_url).call("GET", "/_sandbox/sites").body == {
            "instanceIds": [INSTANCE_ID]
        }
        assert not port_is_free(port)
    finally:
        exit_code = process.stop()

    assert exit_code == 0
    assert "Wix sandbox stopped\n" in process.output
    assert not process.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert port_is_free(port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    # Its CPU time from start to stop, not the wall clock: a loaded machine may take longer to
    # schedule it, but starting must stay well under a second of work (and ``start`` gives up
    # after 10 s of wall clock anyway).
    assert children_cpu_seconds() - cpu_before < 2


def test_the_port_is_configurable() -> None:
    port = free_loopback_port()

    with SandboxProcess(port=port) as process:
        assert process.base_url == f"http://127.0.0.1:{port}"
        assert process.client().health()["status"] == "ok"


def test_the_command_line_configures_keys_webhooks_and_faults(tmp_path: Path) -> None:
    keys = KeyPair.generate()
    key_file = tmp_path / "signing_key.pem"
    key_file.write_bytes(keys.private_pem)
    with WebhookReceiver([500]) as receiver:
        arguments = (
            *("--private-key", str(key_file), "--webhook-url", receiver.url),
            *("--resend-compression", "6000", "--site", INSTANCE_ID),
            *("--faults", json.dumps({"token": {"errorRate": 1.0}}), "--rate-limit", "7"),
        )
        with SandboxProcess(*arguments) as process:
            control = process.client()
            order_id = control.create_order(INSTANCE_ID, generate={})["id"]
            [delivery] = control.wait_for_deliveries(order_id)
            token_answer = WixHttp(process.base_url).token_answer(INSTANCE_ID, "a", "b")
            public_key = control.public_key_pem()
            rate_limit = control.config()["rateLimitPerMinute"]

    assert public_key == keys.public_pem
    assert [attempt["status"] for attempt in delivery["attempts"]] == [500, 200]
    assert jwt.decode(receiver.bodies()[-1], keys.public_pem, algorithms=["RS256"])
    assert token_answer.status == 500
    assert rate_limit == 7


@pytest.mark.parametrize(
    "arguments",
    [
        ("--webhook-url", "http://example.com/webhooks"),
        ("--faults", '{"create": {"errorRate": 2}}'),
        ("--faults", "not json"),
        ("--private-key", "/nonexistent/key.pem"),
    ],
)
def test_bad_arguments_stop_the_start_with_a_reason(arguments: tuple[str, ...]) -> None:
    process = SandboxProcess(*arguments)

    with pytest.raises(SandboxProcessError, match="error:"):
        process.start()

    assert not process.running
