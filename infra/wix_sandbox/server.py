"""HTTP plumbing: a threaded HTTP/1.1 server on loopback that hands each request to the application.

The application answers with a ``Response``, or with None to close the connection without any
answer (what a dropped or timed-out request looks like to a client). Keep-alive is supported, as
Wix's front end does, so a client's connection pool is exercised as in production.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Protocol
from urllib.parse import parse_qsl, urlsplit

from infra.wix_sandbox import errors
from infra.wix_sandbox.config import LOOPBACK_HOST
from infra.wix_sandbox.errors import WixApiError, application_error, validation_error

MAX_BODY_BYTES: Final = 16 * 1024 * 1024
IDLE_CONNECTION_SECONDS: Final = 120


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names in lower case
    body: bytes

    def json(self) -> object:
        """The body as JSON (None when empty); malformed JSON is Wix's 400 validation error."""
        if not self.body.strip():
            return None
        try:
            value: object = json.loads(self.body)
        except (ValueError, RecursionError) as error:
            raise validation_error("body", "must be valid JSON") from error
        return value


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status, json.dumps(value).encode("utf-8"), headers=headers or {})

    @classmethod
    def error(cls, error: WixApiError) -> Response:
        return cls.json(error.status, error.body())


class Application(Protocol):
    def handle(self, request: Request) -> Response | None: ...


class SandboxHTTPServer(ThreadingHTTPServer):
    """Binds one local address (127.0.0.1 unless told); remembers open connections so that
    stopping closes idle ones."""

    daemon_threads = True

    def __init__(
        self,
        port: int,
        application: Application,
        *,
        host: str = LOOPBACK_HOST,
        verbose: bool = False,
    ) -> None:
        self.application = application
        self.verbose = verbose
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((host, port), _RequestHandler)

    def process_request_thread(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        assert isinstance(request, socket.socket)
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def close_connections(self) -> None:
        """Wake every thread blocked on a kept-alive connection, so the server can join them."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_SECONDS
    # Headers and body go out in two writes; with Nagle's algorithm on, the client's delayed ACK
    # would add ~40 ms to every kept-alive request.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        target = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=target.path,
            query=dict(parse_qsl(target.query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        try:
            response = self.server.application.handle(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = Response.error(
                application_error(500, errors.INTERNAL, "the sandbox failed on this request")
            )
        if response is None:
            self.close_connection = True
            return
        self._answer(response)

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._refuse(411, "send a Content-Length (chunked bodies are not accepted)")
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._refuse(413 if length > MAX_BODY_BYTES else 400, "bad Content-Length")
            return None
        return self.rfile.read(length) if length else b""

    def _refuse(self, status: int, description: str) -> None:
        self.close_connection = True
        self._answer(
            Response.error(application_error(status, errors.INVALID_ARGUMENT, description)),
            headers={"Connection": "close"},
        )

    def _answer(self, response: Response, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in {**response.headers, **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)
