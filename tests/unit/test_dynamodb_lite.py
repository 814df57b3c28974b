"""DynamoDBLite does what boto3 did for the webhook: the same signature, endpoint and retries.

Signatures are checked against botocore's own signer (DynamoDB Local checks none); connection
handling and retries against a loopback server that answers as DynamoDB's JSON protocol does.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore import auth as botocore_auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wix_fulfillment.adapters.dynamodb_lite import (
    CONTENT_TYPE,
    DynamoDBError,
    DynamoDBLite,
    default_endpoint,
    sigv4_authorization,
    split_endpoint,
)

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


@pytest.mark.parametrize("session_token", [None, "IQoJb3JpZ2luX2VjE//token"])
def test_the_signature_is_botocores(
    monkeypatch: pytest.MonkeyPatch, session_token: str | None
) -> None:
    now = datetime(2026, 11, 22, 14, 5, 9, tzinfo=UTC)
    body = b'{"TableName":"orders","Item":{"pk":{"S":"ORDER#a#b"}}}'
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: now.replace(tzinfo=None))
    request = AWSRequest(
        method="POST",
        url="https://dynamodb.eu-west-1.amazonaws.com/",
        data=body,
        headers={"Content-Type": CONTENT_TYPE, "X-Amz-Target": "DynamoDB_20120810.PutItem"},
    )
    SigV4Auth(
        Credentials("AKIDEXAMPLE", "secret/key+example", session_token), "dynamodb", "eu-west-1"
    ).add_auth(request)
    headers = {
        "content-type": CONTENT_TYPE,
        "host": "dynamodb.eu-west-1.amazonaws.com",
        "x-amz-date": "20261122T140509Z",
        "x-amz-target": "DynamoDB_20120810.PutItem",
    }
    if session_token:
        headers["x-amz-security-token"] = session_token

    ours = sigv4_authorization(
        method="POST",
        path="/",
        headers=headers,
        body=body,
        region="eu-west-1",
        access_key="AKIDEXAMPLE",
        secret_key="secret/key+example",
    )

    assert ours == request.headers["Authorization"]


def test_endpoints_follow_botocores_variables_and_partitions() -> None:
    def endpoint_of(**environment: str) -> DynamoDBLite | None:
        return DynamoDBLite.from_environment(
            connect_timeout=1, read_timeout=1, max_attempts=2, environ=environment
        )

    assert endpoint_of(**LOCAL_ENVIRONMENT) is not None
    assert endpoint_of(**{**LOCAL_ENVIRONMENT, "AWS_ACCESS_KEY_ID": ""}) is None
    assert endpoint_of(**{**LOCAL_ENVIRONMENT, "AWS_DEFAULT_REGION": ""}) is None
    assert endpoint_of(**LOCAL_ENVIRONMENT, AWS_USE_FIPS_ENDPOINT="true") is None
    assert endpoint_of(**LOCAL_ENVIRONMENT, AWS_USE_DUALSTACK_ENDPOINT="true") is None
    assert endpoint_of(**{**LOCAL_ENVIRONMENT, "AWS_DEFAULT_REGION": "us-isob-east-1"}) is None
    # An endpoint given explicitly wins, as AWS_ENDPOINT_URL_DYNAMODB does in boto3.
    assert (
        endpoint_of(**LOCAL_ENVIRONMENT, AWS_USE_FIPS_ENDPOINT="true", AWS_ENDPOINT_URL="http://x")
        is not None
    )
    assert default_endpoint("eu-west-1") == "https://dynamodb.eu-west-1.amazonaws.com"
    assert default_endpoint("cn-north-1") == "https://dynamodb.cn-north-1.amazonaws.com.cn"
    assert default_endpoint("us-gov-west-1") == "https://dynamodb.us-gov-west-1.amazonaws.com"


@pytest.mark.parametrize(
    "url",
    [
        "https://dynamodb.eu-west-1.amazonaws.com",
        "https://dynamodb.cn-north-1.amazonaws.com.cn/",
        "http://127.0.0.1:8000",
        "http://LocalHost:8000/",
        "HTTP://localhost:/",
        "http://[::1]:8000",
        "https://[2001:DB8::1]/dynamodb",
    ],
)
def test_an_endpoint_url_is_read_as_urlsplit_reads_it(url: str) -> None:
    parts = urlsplit(url)
    default_port = 443 if parts.scheme == "https" else 80

    assert split_endpoint(url) == (
        parts.scheme == "https",
        parts.hostname,
        parts.port or default_port,
        parts.netloc,
        parts.path or "/",
    )


@pytest.mark.parametrize(
    "url",
    [
        "dynamodb.eu-west-1.amazonaws.com",
        "ftp://host",
        "http://",
        "http://:8000",
        "http://host:80a",
        "http://host:0",
        "http://host:65536",
        "http://[::1",
        "http://[::1]x",
        "http://user@host",
        "http://host/?x=1",
    ],
)
def test_an_endpoint_url_it_cannot_use_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="endpoint URL"):
        DynamoDBLite(url, "eu-west-1", connect_timeout=1, read_timeout=1, max_attempts=1)


class FakeDynamoDB(ThreadingHTTPServer):
    """Answers each request with the next scripted (status, body, close afterwards)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scheme = "http"
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
            self.scheme = "https"
        self.script: list[tuple[int, dict[str, Any], bool]] = []
        self.requests: list[dict[str, Any]] = []
        self.connections: set[tuple[str, int]] = set()
        self.closed = threading.Event()

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.set()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeDynamoDB

    def do_POST(self) -> None:
        length = int(self.headers["content-length"])
        self.server.requests.append(
            {
                "target": self.headers["x-amz-target"],
                "authorization": self.headers["authorization"],
                "body": json.loads(self.rfile.read(length)),
            }
        )
        self.server.connections.add(self.client_address)
        status, body, close = self.server.script.pop(0) if self.server.script else (200, {}, False)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", CONTENT_TYPE)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        # Closing without saying so: as a server does with a connection idle for too long.
        self.close_connection = close

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(fake: FakeDynamoDB) -> Iterator[FakeDynamoDB]:
    thread = threading.Thread(target=fake.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.shutdown()
        fake.server_close()


@pytest.fixture
def server() -> Iterator[FakeDynamoDB]:
    with serving(FakeDynamoDB()) as fake:
        yield fake


def client_of(server: FakeDynamoDB, sleeps: list[float]) -> DynamoDBLite:
    return DynamoDBLite(
        server.url,
        "eu-west-1",
        connect_timeout=1.0,
        read_timeout=2.0,
        max_attempts=2,
        environ=LOCAL_ENVIRONMENT,
        sleep=sleeps.append,
    )


def error(code: str) -> dict[str, str]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "as DynamoDB says"}


def test_a_put_is_one_signed_request_on_a_kept_alive_connection(server: FakeDynamoDB) -> None:
    client = client_of(server, [])

    client.put_item("orders", {"pk": {"S": "ORDER#a#1"}}, "attribute_not_exists(pk)")
    client.put_item("orders", {"pk": {"S": "ORDER#a#2"}}, "attribute_not_exists(pk)")

    assert [request["target"] for request in server.requests] == ["DynamoDB_20120810.PutItem"] * 2
    assert server.requests[0]["body"] == {
        "TableName": "orders",
        "Item": {"pk": {"S": "ORDER#a#1"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    assert server.requests[0]["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
    )
    assert len(server.connections) == 1


def test_a_connection_the_server_closed_is_replaced_without_using_a_retry(
    server: FakeDynamoDB,
) -> None:
    sleeps: list[float] = []
    client = client_of(server, sleeps)
    server.script = [(200, {}, True), (200, {}, False)]

    client.put_item("orders", {"pk": {"S": "a"}}, "attribute_not_exists(pk)")
    assert server.closed.wait(5)
    time.sleep(0.05)  # the FIN crossing loopback
    client.put_item("orders", {"pk": {"S": "b"}}, "attribute_not_exists(pk)")

    assert len(server.requests) == 2
    assert len(server.connections) == 2
    assert sleeps == []


def test_a_failed_condition_is_its_code_and_is_not_retried(server: FakeDynamoDB) -> None:
    sleeps: list[float] = []
    server.script = [(400, error("ConditionalCheckFailedException"), False)]

    with pytest.raises(DynamoDBError) as raised:
        client_of(server, sleeps).put_item("orders", {"pk": {"S": "a"}}, "x")

    assert raised.value.code == "ConditionalCheckFailedException"
    assert not raised.value.retryable
    assert len(server.requests) == 1
    assert sleeps == []


def test_throttling_is_retried_once_after_a_jittered_second_at_most(
    server: FakeDynamoDB,
) -> None:
    sleeps: list[float] = []
    server.script = [(400, error("ProvisionedThroughputExceededException"), False)]

    client_of(server, sleeps).put_item("orders", {"pk": {"S": "a"}}, "x")

    assert len(server.requests) == 2
    [delay] = sleeps
    assert 0 <= delay <= 1.0


def test_server_errors_are_retried_then_given_up(server: FakeDynamoDB) -> None:
    sleeps: list[float] = []
    server.script = [(500, error("InternalServerError"), False)] * 3

    with pytest.raises(DynamoDBError) as raised:
        client_of(server, sleeps).put_item("orders", {"pk": {"S": "a"}}, "x")

    assert raised.value.code == "InternalServerError"
    assert len(server.requests) == 2
    [delay] = sleeps
    assert 0 <= delay <= 0.025


def test_an_unreachable_endpoint_is_a_retryable_error(server: FakeDynamoDB) -> None:
    sleeps: list[float] = []
    url = server.url
    server.shutdown()
    server.server_close()
    client = DynamoDBLite(
        url,
        "eu-west-1",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=2,
        environ=LOCAL_ENVIRONMENT,
        sleep=sleeps.append,
    )

    with pytest.raises(DynamoDBError) as raised:
        client.put_item("orders", {"pk": {"S": "a"}}, "x")

    assert raised.value.code == "ConnectionRefusedError"
    assert len(sleeps) == 1


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake dynamodb")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "cert.pem", directory / "key.pem"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


def test_https_endpoints_are_verified_with_aws_ca_bundle_as_boto3_does(tmp_path: Path) -> None:
    certificate, key = self_signed_certificate(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, key)

    def client(environ: dict[str, str], url: str) -> DynamoDBLite:
        return DynamoDBLite(
            url,
            "eu-west-1",
            connect_timeout=2.0,
            read_timeout=2.0,
            max_attempts=1,
            environ=environ,
        )

    with serving(FakeDynamoDB(tls)) as server:
        trusting = client({**LOCAL_ENVIRONMENT, "AWS_CA_BUNDLE": str(certificate)}, server.url)
        trusting.put_item("orders", {"pk": {"S": "a"}}, "attribute_not_exists(pk)")
        with pytest.raises(DynamoDBError) as raised:
            client(LOCAL_ENVIRONMENT, server.url).put_item("orders", {"pk": {"S": "b"}}, "x")

    assert len(server.requests) == 1
    assert raised.value.code == "SSLCertVerificationError"
    assert raised.value.retryable


def test_a_stalled_dynamodb_is_given_up_within_the_time_budget() -> None:
    """Wix waits 1.25 s for the webhook's answer: every attempt and wait of the write together
    must end inside it, or the 503 that brings Wix's retry comes too late to count."""
    from wix_fulfillment.adapters.intake_store import (
        CONNECT_TIMEOUT_SECONDS,
        MAX_ATTEMPTS,
        READ_TIMEOUT_SECONDS,
        TIME_BUDGET_SECONDS,
    )

    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        client = DynamoDBLite(
            f"http://127.0.0.1:{silent.getsockname()[1]}",
            "eu-west-1",
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            max_attempts=MAX_ATTEMPTS,
            time_budget=TIME_BUDGET_SECONDS,
            environ=LOCAL_ENVIRONMENT,
        )
        started = time.monotonic()
        with pytest.raises(DynamoDBError):
            client.put_item("orders", {"pk": {"S": "a"}}, "x")
        elapsed = time.monotonic() - started

    assert MAX_ATTEMPTS * READ_TIMEOUT_SECONDS > 1.25, "without the budget it would be too late"
    assert elapsed < 1.25


@contextmanager
def raw_answers(*answers: bytes) -> Iterator[str]:
    """A loopback server that reads each request whole and writes the next answer, byte for
    byte as given, closing the connection after the last one."""

    def serve(listener: socket.socket) -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as requests:
            for answer in answers:
                length = 0
                while (line := requests.readline()) not in {b"\r\n", b""}:
                    name, _, value = line.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                requests.read(length)
                connection.sendall(answer)

    with socket.create_server(("127.0.0.1", 0)) as listener:
        thread = threading.Thread(target=serve, args=(listener,), daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
        thread.join(5)


def raw_client(url: str) -> DynamoDBLite:
    return DynamoDBLite(
        url,
        "eu-west-1",
        connect_timeout=1.0,
        read_timeout=1.0,
        max_attempts=1,
        environ=LOCAL_ENVIRONMENT,
    )


def test_answers_in_chunks_and_up_to_the_close_are_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'5;ext=1\r\n{"Att\r\n'
        b'10\r\nributes":{"a":{"\r\n'
        b'9\r\nS":"b"}}}\r\n0\r\nx-trailer: t\r\n\r\n'
    )
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    until_close = b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"Attributes":{}}'
    with raw_answers(chunked, interim + until_close) as url:
        client = raw_client(url)
        first = client.call("UpdateItem", {"TableName": "orders"})
        second = client.call("UpdateItem", {"TableName": "orders"})

    assert first == {"Attributes": {"a": {"S": "b"}}}
    assert second == {"Attributes": {}}


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{}", "RemoteDisconnected"),
        (b"", "RemoteDisconnected"),
        (b"SMTP ready\r\n\r\n", "MalformedAnswer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "MalformedAnswer"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "MalformedAnswer"),
        (b"HTTP/1.1 200 OK\r\n" + b"x: y\r\n" * 101 + b"\r\n", "MalformedAnswer"),
    ],
)
def test_an_answer_cut_short_or_not_http_is_a_retryable_error(answer: bytes, code: str) -> None:
    with raw_answers(answer) as url, pytest.raises(DynamoDBError) as raised:
        raw_client(url).put_item("orders", {"pk": {"S": "a"}}, "x")

    assert raised.value.code == code
    assert raised.value.retryable
