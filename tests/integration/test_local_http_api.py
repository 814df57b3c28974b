"""The local stack's HTTP API when the caller has gone: Wix's sandbox, like Wix, stops waiting
after 1.25 s, and the answer written after that must not end in a traceback on the console."""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.local_stack.http_api import _reply


def test_an_answer_to_a_caller_who_reset_the_connection_is_dropped_quietly() -> None:
    request_read, caller_gone, answered = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            request_read.set()
            caller_gone.wait(5)
            try:
                _reply(self, 200, {"content-type": "application/json"}, b"{}" * 50_000)
            except BaseException as error:
                failures.append(error)
            finally:
                answered.set()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            caller = socket.create_connection(("127.0.0.1", server.server_address[1]))
            caller.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
            assert request_read.wait(5)
            # Closed with a reset, as a caller that gave up does: the headers' write fails too.
            caller.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            caller.close()
            caller_gone.set()
            assert answered.wait(5)
            server.shutdown()
    finally:
        server.server_close()

    assert failures == []
    assert "Traceback" not in stderr.getvalue()
