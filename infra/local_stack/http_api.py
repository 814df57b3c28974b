"""The template's HTTP API routes on 127.0.0.1, as API Gateway serves them (payload format 2.0).

Requests become the events API Gateway sends; answers are mapped back as it maps them: a result
with ``statusCode`` is taken as it is, any other result is sent as JSON with 200, and a failed
invocation is a 500 ``{"message": "Internal Server Error"}``. Unknown routes get API Gateway's 404,
and an IAM-authorized route without a SigV4 signature its 403.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import urlsplit

from infra.local_stack.apigw_events import http_api_event
from infra.local_stack.functions import FunctionError
from infra.local_stack.wiring import Route
from infra.service import LocalService, claiming_port

_TEXT_TYPES: Final = ("text/", "application/json", "application/xml", "application/javascript")
_FORM_TYPE: Final = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, for the stack's log line."""

    method: str
    path: str
    function_id: str | None
    status: int
    body: bytes


Invoke = Callable[[str, dict[str, Any]], Any]


class HttpApi(LocalService):
    def __init__(
        self,
        routes: Sequence[Route],
        invoke: Invoke,
        on_exchange: Callable[[Exchange], None],
        port: int = 0,
    ) -> None:
        self._routes = tuple(routes)
        self._invoke = invoke
        self._on_exchange = on_exchange
        self._requested_port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the HTTP API is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> HttpApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_request(self) -> None:
                api._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_request

            def log_message(self, format: str, *args: Any) -> None:
                """The stack logs each exchange itself."""

        with claiming_port("the HTTP API", self._requested_port):
            self._server = ThreadingHTTPServer(("127.0.0.1", self._requested_port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        for route in self._routes:
            parameters = route.match(request.command, url.path)
            if parameters is not None:
                if route.authorization == "AWS_IAM" and not _signed(request):
                    answer = json.dumps({"message": "Forbidden"}).encode()
                    _reply(request, 403, {"content-type": "application/json"}, answer)
                    self._on_exchange(Exchange(request.command, url.path, None, 403, answer))
                    return
                status, headers, answer = self._call(
                    route, request, url.path, url.query, body, parameters
                )
                _reply(request, status, headers, answer)
                self._on_exchange(
                    Exchange(request.command, url.path, route.function_id, status, answer)
                )
                return
        answer = json.dumps({"message": "Not Found"}).encode()
        _reply(request, 404, {"content-type": "application/json"}, answer)
        self._on_exchange(Exchange(request.command, url.path, None, 404, answer))

    def _call(
        self,
        route: Route,
        request: BaseHTTPRequestHandler,
        path: str,
        query: str,
        body: bytes,
        parameters: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {name.lower(): value for name, value in request.headers.items()}
        content_type = headers.get("content-type", "")
        textual = content_type.startswith(_TEXT_TYPES) or content_type.startswith(_FORM_TYPE)
        event = http_api_event(
            body,
            method=request.command,
            path=path,
            route_path=route.path,
            base64_encoded=bool(body) and not textual,
            headers=headers,
            query_string=query,
            path_parameters=parameters,
            source_ip=request.client_address[0],
        )
        try:
            result = self._invoke(route.function_id, event)
        except FunctionError:
            return 500, {"content-type": "application/json"}, b'{"message":"Internal Server Error"}'
        return _response(result)


def _signed(request: BaseHTTPRequestHandler) -> bool:
    """An IAM-authorized route needs a SigV4 signature. Locally its presence is checked, not its
    validity: there are no AWS credentials to check it against."""
    return request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 ")


def _response(result: Any) -> tuple[int, dict[str, str], bytes]:
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {str(name).lower(): str(value) for name, value in result.get("headers", {}).items()}
    return int(result["statusCode"]), headers, raw


def _reply(
    request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes
) -> None:
    request.send_response(status)
    for name, value in headers.items():
        if name not in ("content-length", "connection"):
            request.send_header(name, value)
    request.send_header("content-length", str(len(body)))
    try:
        request.end_headers()
        request.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        request.close_connection = True  # the caller gave up waiting, as Wix does after 1.25 s
