"""A webhook receiver for tests: records what arrives and answers from a script of statuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    path: str
    content_type: str | None
    body: str


class WebhookReceiver:
    """Answers the scripted statuses in turn, then ``default_status``; ``delay`` before each."""

    def __init__(
        self, statuses: Iterable[int] = (), *, default_status: int = 200, delay: float = 0.0
    ) -> None:
        self._script = list(statuses)
        self._lock = threading.Lock()
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            time.monotonic(),
                            self.path,
                            self.headers.get("Content-Type"),
                            body.decode(),
                        )
                    )
                    status = receiver._script.pop(0) if receiver._script else default_status
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/wix"

    def bodies(self) -> list[str]:
        with self._lock:
            return [item.body for item in self.received]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
