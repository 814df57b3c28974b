"""A minimal DynamoDB client for the webhook's one call, PutItem: SigV4 signing and HTTP/1.1 over a
standard-library socket, so the webhook's cold start loads no botocore (docs/architecture.md says
why and what it measured), nor http.client, whose import (the email package, for its header
parsing) cost the cold start more than this module's whole HTTP (docs/performance.md). It reads
what Lambda gives, the way boto3 does: credentials and region from the environment,
``AWS_ENDPOINT_URL_DYNAMODB``/``AWS_ENDPOINT_URL``, ``AWS_CA_BUNDLE``, timeouts, and botocore's
"standard" retries. Anything else (profiles, container credentials, FIPS or dual-stack endpoints,
other partitions) is left to boto3: :meth:`DynamoDBLite.from_environment` answers None.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

SERVICE: Final = "dynamodb"
TARGET_PREFIX: Final = "DynamoDB_20120810."
CONTENT_TYPE: Final = "application/x-amz-json-1.0"
USER_AGENT: Final = "wix-order-fulfillment dynamodb-lite"
THROTTLING_CODES: Final = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
    }
)
"""botocore's "standard" retry mode treats these as throttling (as well as HTTP 429)."""
TRANSIENT_CODES: Final = frozenset({"RequestTimeout", "RequestTimeoutException"})
TRANSIENT_STATUSES: Final = frozenset({500, 502, 503, 504})
THROTTLING_BACKOFF_SECONDS: Final = 1.0
TRANSIENT_BACKOFF_SECONDS: Final = 0.025
"""botocore's base delays for DynamoDB, scaled by a random factor (full jitter)."""
_PARTITION_SUFFIXES: Final = (("cn-", "amazonaws.com.cn"), ("us-gov-", "amazonaws.com"))
_OTHER_PARTITIONS: Final = ("us-iso", "eu-iso")
_TRUE: Final = frozenset({"true", "1", "yes"})
_MAX_LINE_BYTES: Final = 65536
_MAX_HEADER_LINES: Final = 100
"""http.client's limits on an answer's head: a server cannot make us buffer without end."""
_DIGITS: Final = {10: frozenset("0123456789"), 16: frozenset("0123456789abcdefABCDEF")}


class DynamoDBError(Exception):
    """DynamoDB refused the request, or could not be reached; ``code`` is its error code (as
    boto3's ``ClientError`` would carry it) or the connection error's class name."""

    def __init__(self, code: str, *, retryable: bool, throttling: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.retryable = retryable
        self.throttling = throttling


class RemoteDisconnected(ConnectionResetError):
    """The server closed the connection before its answer was whole."""


class MalformedAnswer(Exception):
    """The server's answer is not HTTP/1.1 as this client reads it."""


class _Connection:
    """One kept-alive HTTP/1.1 connection: a POST, then the answer's status, header fields and
    body (by length, in chunks, or up to the close), which is all DynamoDB's JSON protocol uses."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._answer = sock.makefile("rb")

    def post(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes, bool]:
        """The answer's status and body, and whether the server closes the connection after it."""
        head = "".join(
            [
                f"POST {path} HTTP/1.1\r\n",
                *(f"{name}: {value}\r\n" for name, value in headers.items()),
                f"accept-encoding: identity\r\ncontent-length: {len(body)}\r\n\r\n",
            ]
        )
        self.sock.sendall(head.encode("latin-1") + body)
        version, status = self._status_line()
        fields = self._fields()
        while 100 <= status < 200:  # interim answers (100 Continue) precede the real one
            version, status = self._status_line()
            fields = self._fields()
        connection = fields.get("connection", "").lower()
        closes = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        if status in {204, 304}:
            return status, b"", closes
        if "chunked" in fields.get("transfer-encoding", "").lower():
            return status, self._chunked(), closes
        length = fields.get("content-length")
        if length is None:
            return status, self._answer.read(), True
        return status, self._exactly(_count(length)), closes

    def close(self) -> None:
        self._answer.close()
        self.sock.close()

    def _line(self) -> bytes:
        line = self._answer.readline(_MAX_LINE_BYTES + 1)
        if len(line) > _MAX_LINE_BYTES:
            raise MalformedAnswer("a line of the answer is too long")
        if not line:
            raise RemoteDisconnected("the connection closed before the answer was whole")
        return line

    def _status_line(self) -> tuple[str, int]:
        version, _, rest = self._line().decode("latin-1").partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or len(code) != 3:
            raise MalformedAnswer(f"not an HTTP/1.x status line: {version[:20]!r}")
        return version, _count(code)

    def _fields(self) -> dict[str, str]:
        """Header fields by lower-case name (a repeated one keeps its last value)."""
        fields: dict[str, str] = {}
        for _ in range(_MAX_HEADER_LINES):
            line = self._line()
            if line in {b"\r\n", b"\n"}:
                return fields
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise MalformedAnswer("a header line without a colon")
            fields[name.strip().lower()] = value.strip()
        raise MalformedAnswer("too many header lines")

    def _exactly(self, length: int) -> bytes:
        data = self._answer.read(length)
        if len(data) < length:
            raise RemoteDisconnected("the connection closed before the answer was whole")
        return data

    def _chunked(self) -> bytes:
        chunks = []
        while size := _count(self._line().decode("latin-1").partition(";")[0].strip(), base=16):
            chunks.append(self._exactly(size))
            self._exactly(2)  # the CRLF after each chunk
        while self._line() not in {b"\r\n", b"\n"}:  # trailer fields, unused
            pass
        return b"".join(chunks)


def _count(text: str, base: int = 10) -> int:
    """A length as HTTP writes it: digits only (``int`` would also take signs, blanks and _)."""
    if not text or not set(text) <= _DIGITS[base]:
        raise MalformedAnswer(f"not a length: {text[:20]!r}")
    return int(text, base)


class DynamoDBLite:
    """Kept-alive connections to DynamoDB's endpoint: one in Lambda (one event at a time per
    execution environment), one per concurrent caller otherwise."""

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        time_budget: float | None = None,
        environ: Mapping[str, str] = os.environ,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._https, self._host, self._port, self._host_header, self._path = split_endpoint(
            endpoint_url
        )
        self._region = region
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_attempts = max_attempts
        self._time_budget = time_budget
        self._environ = environ
        self._sleep = sleep
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    @classmethod
    def from_environment(
        cls,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_attempts: int,
        time_budget: float | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> DynamoDBLite | None:
        """A client when the environment holds what it needs, as Lambda's does; else None."""
        region = environ.get("AWS_DEFAULT_REGION")  # botocore's variable (Lambda sets it)
        if not region or _credentials(environ) is None:
            return None
        endpoint = environ.get("AWS_ENDPOINT_URL_DYNAMODB") or environ.get("AWS_ENDPOINT_URL")
        if not endpoint:
            if any(
                environ.get(name, "").lower() in _TRUE
                for name in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT")
            ):
                return None
            endpoint = default_endpoint(region)
            if endpoint is None:
                return None
        return cls(
            endpoint,
            region,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
            time_budget=time_budget,
            environ=environ,
        )

    def put_item(self, table_name: str, item: Mapping[str, Any], condition_expression: str) -> None:
        """PutItem; raises :class:`DynamoDBError` (``ConditionalCheckFailedException`` among)."""
        self.call(
            "PutItem",
            {"TableName": table_name, "Item": item, "ConditionExpression": condition_expression},
        )

    def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """One DynamoDB operation (JSON protocol), retried as botocore's standard mode does, all
        attempts and waits inside the time budget when there is one."""
        body = json.dumps(request, separators=(",", ":")).encode()
        deadline = None if self._time_budget is None else time.monotonic() + self._time_budget
        attempt = 1
        while True:
            try:
                return self._attempt(operation, body, deadline)
            except DynamoDBError as error:
                if not error.retryable or attempt >= self._max_attempts:
                    raise
                base = THROTTLING_BACKOFF_SECONDS if error.throttling else TRANSIENT_BACKOFF_SECONDS
                delay = random.random() * base * 2 ** (attempt - 1)  # noqa: S311 (jitter)
                if deadline is not None and time.monotonic() + delay >= deadline:
                    raise
                self._sleep(delay)
                attempt += 1

    def _attempt(self, operation: str, body: bytes, deadline: float | None) -> dict[str, Any]:
        headers = self._signed_headers(operation, body, datetime.now(UTC))
        connection: _Connection | None = None
        try:
            connection = self._connection(deadline)
            status, payload, closes = connection.post(self._path, headers, body)
        except (OSError, MalformedAnswer) as error:
            if connection is not None:
                connection.close()
            raise DynamoDBError(type(error).__name__, retryable=True) from error
        if closes:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        if status == 200:
            answer: dict[str, Any] = json.loads(payload) if payload else {}
            return answer
        raise _error(status, payload)

    def _connection(self, deadline: float | None) -> _Connection:
        """An idle kept-alive connection the server has not closed (as urllib3 checks), or a
        new one, its timeouts cut to what the budget leaves."""
        connect_timeout, read_timeout = self._connect_timeout, self._read_timeout
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DynamoDBError("TimeBudgetSpent", retryable=False)
            connect_timeout, read_timeout = min(connect_timeout, left), min(read_timeout, left)
        while True:
            with self._lock:
                if not self._idle:
                    break
                connection = self._idle.pop()
            readable, _, _ = select.select([connection.sock], [], [], 0)
            if not readable:
                connection.sock.settimeout(read_timeout)
                return connection
            connection.close()
        # An ASCII host as bytes, which getaddrinfo takes as they are (typeshed says str only): a
        # str goes through the idna codec, whose import (encodings.idna, stringprep, unicodedata)
        # would land in the first request, for the same bytes.
        host = self._host.encode() if self._host.isascii() else self._host
        sock = socket.create_connection(
            (host, self._port),  # type: ignore[arg-type]
            timeout=connect_timeout,
        )
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
            if self._https:
                context = ssl.create_default_context(
                    cafile=self._environ.get("AWS_CA_BUNDLE") or None
                )
                sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        sock.settimeout(read_timeout)
        return _Connection(sock)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _signed_headers(self, operation: str, body: bytes, now: datetime) -> dict[str, str]:
        credentials = _credentials(self._environ)
        if credentials is None:
            raise DynamoDBError("NoCredentialsError", retryable=False)
        access_key, secret_key, session_token = credentials
        headers = {
            "content-type": CONTENT_TYPE,
            "host": self._host_header,
            "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"),
            "x-amz-target": TARGET_PREFIX + operation,
        }
        if session_token:
            headers["x-amz-security-token"] = session_token
        headers["authorization"] = sigv4_authorization(
            method="POST",
            path=self._path,
            headers=headers,
            body=body,
            region=self._region,
            access_key=access_key,
            secret_key=secret_key,
        )
        headers["user-agent"] = USER_AGENT
        return headers


def sigv4_authorization(
    *,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    access_key: str,
    secret_key: str,
    service: str = SERVICE,
) -> str:
    """The ``Authorization`` header of AWS Signature Version 4 over every header given (names in
    lower case, ``x-amz-date`` among them) and the body; no query string."""
    timestamp = headers["x-amz-date"]
    date = timestamp[:8]
    names = sorted(headers)
    canonical_request = "\n".join(
        [
            method,
            path,
            "",
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            timestamp,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )


def split_endpoint(url: str) -> tuple[bool, str, int, str, str]:
    """Whether it is https, the host, port, authority (the Host header) and path of an endpoint
    URL, as ``urlsplit`` reads them: urllib.parse, and the ipaddress module it imports, cost a
    cold start more than reading this one string (docs/performance.md)."""
    scheme, separator, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if scheme.lower() not in {"http", "https"} or not separator or any(c in url for c in "@?# "):
        raise ValueError(f"not an http(s) endpoint URL without user, query or fragment: {url!r}")
    if authority.startswith("["):  # an IPv6 address
        host, bracket, after = authority[1:].partition("]")
        colon, port_text = after[:1], after[1:]
        if not bracket or (after and colon != ":"):
            raise ValueError(f"not an http(s) endpoint URL: {url!r}")
    else:
        host, colon, port_text = authority.partition(":")
    if not host or (port_text and not (port_text.isascii() and port_text.isdigit())):
        raise ValueError(f"not an http(s) endpoint URL: {url!r}")
    https = scheme.lower() == "https"
    port = int(port_text) if port_text else (443 if https else 80)
    if not 0 < port < 65536:
        raise ValueError(f"the endpoint URL's port is out of range: {url!r}")
    return https, host.lower(), port, authority, slash + path or "/"


def default_endpoint(region: str) -> str | None:
    """DynamoDB's regional endpoint, for the partitions whose naming we know; else None."""
    if region.startswith(_OTHER_PARTITIONS):
        return None
    for prefix, suffix in _PARTITION_SUFFIXES:
        if region.startswith(prefix):
            return f"https://dynamodb.{region}.{suffix}"
    return f"https://dynamodb.{region}.amazonaws.com"


def _credentials(environ: Mapping[str, str]) -> tuple[str, str, str | None] | None:
    """Read at each request, as the environment is where Lambda puts them."""
    access_key = environ.get("AWS_ACCESS_KEY_ID")
    secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
    if not access_key or not secret_key:
        return None
    return access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None


def _error(status: int, payload: bytes) -> DynamoDBError:
    code = f"HTTP{status}"
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("__type"), str):
        code = answer["__type"].rpartition("#")[2] or code
    throttling = status == 429 or code in THROTTLING_CODES
    retryable = throttling or status in TRANSIENT_STATUSES or code in TRANSIENT_CODES
    return DynamoDBError(code, retryable=retryable, throttling=throttling)
