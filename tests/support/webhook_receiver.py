"""A webhook receiver for tests: records what arrives and answers from a script of statuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

HOLD_LIMIT_SECONDS = 30.0  # a held answer is given anyway after this, so a test cannot hang


@dataclass(frozen=True)
class Received:
    at: float  # time.monotonic()
    path: str
    content_type: str | None
    body: str


class WebhookReceiver:
    """Answers the scripted statuses in turn, then ``default_status``; ``delay`` before each.

    ``held``: no answer at all until ``release()``, so a test sees what is in flight at once by
    events (``wait_for_arrivals``) rather than by how fast a loaded machine happens to be.
    """

    def __init__(
        self,
        statuses: Iterable[int] = (),
        *,
        default_status: int = 200,
        delay: float = 0.0,
        held: bool = False,
    ) -> None:
        self._script = list(statuses)
        self._arrived = threading.Condition()
        self._released = threading.Event()
        if not held:
            self._released.set()
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    receiver.received.append(
                        Received(
                            time.monotonic(),
                            self.path,
                            self.headers.get("Content-Type"),
                            body.decode(),
                        )
                    )
                    status = receiver._script.pop(0) if receiver._script else default_status
                    receiver._arrived.notify_all()
                receiver._released.wait(HOLD_LIMIT_SECONDS)
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
        with self._arrived:
            return [item.body for item in self.received]

    def wait_for_arrivals(self, count: int, timeout: float = 10.0) -> bool:
        """True once ``count`` requests have arrived (answered or not)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def release(self) -> None:
        """Answer the held requests, and every later one at once."""
        self._released.set()

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
