"""The Wix client's transport rules, against a scripted Wix on loopback (real sockets, no mocks):
what the sandbox cannot easily show, such as Retry-After, read timeouts or odd answers.

The adapter is used through its module: worker tests re-import it (a cold start), which
replaces its classes."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wix_fulfillment.adapters.wix_fulfillments import WixFulfillmentsClient
from wix_fulfillment.adapters.wix_tokens import TokenCache, TokenUnavailable, WixCredentials
from wix_fulfillment.adapters.wix_transport import WixRequestFailed
from wix_fulfillment.core.model import (
    CreateOutcomeUnknown,
    CreateResult,
    FulfilledLine,
    FulfillmentRequest,
    WixUnavailable,
)

pytestmark = pytest.mark.integration

SITE = "site-1"
LIST = "/ecom/v1/fulfillments/list-by-ids"
BULK = "/ecom/v1/fulfillments/orders/bulk/create-fulfillments"
TOKEN = "/oauth2/token"


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class ScriptedWix:
    """Answers each path with its scripted answers in turn (the last one again when done)."""

    script: dict[str, list[Answer]] = field(default_factory=lambda: defaultdict(list))
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    base_url: str = ""

    def on(self, path: str, *answers: Answer) -> None:
        self.script[path] = list(answers)

    def calls(self, path: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        return [request for request in self.requests if request[1] == path]


@pytest.fixture
def wix() -> Iterator[ScriptedWix]:
    scripted = ScriptedWix()
    scripted.on(TOKEN, Answer(body={"access_token": "tok-1", "expires_in": 14400}))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            scripted.requests.append((self.command, self.path, dict(self.headers), body))
            answers = scripted.script.get(self.path) or [Answer(404, {"message": "no"})]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            time.sleep(answer.delay)
            payload = (
                answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            )
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scripted.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield scripted
    server.shutdown()
    server.server_close()


def client(
    wix: ScriptedWix, seconds_left: float = 300.0, **options: Any
) -> tuple[WixFulfillmentsClient, list[float]]:
    sleeps: list[float] = []
    api = WixFulfillmentsClient(
        wix.base_url,
        WixCredentials("app", lambda: "secret"),
        lambda: seconds_left,
        token_cache=TokenCache(),
        sleep=sleeps.append,
        **options,
    )
    return api, sleeps


def request(order_id: str) -> FulfillmentRequest:
    return FulfillmentRequest(order_id, (FulfilledLine("line-1", 1),), None)


def listing(*order_ids: str) -> dict[str, Any]:
    return {"ordersWithFulfillments": [{"orderId": o, "fulfillments": []} for o in order_ids]}


def test_retry_after_is_honoured_and_the_token_sent_raw(wix: ScriptedWix) -> None:
    wix.on(LIST, Answer(429, headers={"Retry-After": "2"}), Answer(body=listing("o1")))
    api, sleeps = client(wix)

    assert api.existing_fulfillments(SITE, ["o1"]) == {"o1": []}
    assert sleeps == [2.0]
    assert {request[2]["Authorization"] for request in wix.calls(LIST)} == {"tok-1"}


def test_no_sleep_runs_past_the_deadline(wix: ScriptedWix) -> None:
    wix.on(LIST, Answer(503, headers={"Retry-After": "30"}))
    api, sleeps = client(wix, seconds_left=20.0)

    with pytest.raises(WixRequestFailed, match="HTTP 503"):
        api.existing_fulfillments(SITE, ["o1"])
    assert sleeps == []
    assert len(wix.calls(LIST)) == 1


def test_backoff_grows_and_gives_up_after_five_attempts(wix: ScriptedWix) -> None:
    wix.on(LIST, Answer(500))
    api, sleeps = client(wix)

    with pytest.raises(WixUnavailable):
        api.existing_fulfillments(SITE, ["o1"])
    assert len(wix.calls(LIST)) == 5
    assert len(sleeps) == 4
    assert all(0 <= delay <= 0.2 * 2 ** (n + 1) for n, delay in enumerate(sleeps))


def test_a_rejected_token_is_replaced_once(wix: ScriptedWix) -> None:
    wix.on(
        TOKEN,
        Answer(body={"access_token": "old", "expires_in": 14400}),
        Answer(body={"access_token": "new", "expires_in": 14400}),
    )
    wix.on(LIST, Answer(401, {"message": "expired"}), Answer(body=listing("o1")))
    api, _ = client(wix)

    api.existing_fulfillments(SITE, ["o1"])

    assert [request[2]["Authorization"] for request in wix.calls(LIST)] == ["old", "new"]


def test_tokens_are_kept_until_five_minutes_before_they_expire(wix: ScriptedWix) -> None:
    wix.on(LIST, Answer(body=listing("o1")))
    lasting, _ = client(wix)
    lasting.existing_fulfillments(SITE, ["o1"])
    lasting.existing_fulfillments(SITE, ["o1"])
    assert len(wix.calls(TOKEN)) == 1

    wix.on(TOKEN, Answer(body={"access_token": "short", "expires_in": 300}))
    short_lived, _ = client(wix)
    short_lived.existing_fulfillments(SITE, ["o1"])
    short_lived.existing_fulfillments(SITE, ["o1"])
    assert len(wix.calls(TOKEN)) == 3


def test_listing_chunks_of_100_and_odd_answers_are_wix_unavailable(wix: ScriptedWix) -> None:
    wix.on(LIST, Answer(body=listing()), Answer(body=b"<html>busy</html>"))
    api, _ = client(wix)

    assert len(api.existing_fulfillments(SITE, [f"o{i}" for i in range(100)])) == 100
    with pytest.raises(WixUnavailable, match="not JSON"):
        api.existing_fulfillments(SITE, ["o1"])
    wix.on(LIST, Answer(body={"ordersWithFulfillments": [{"fulfillments": []}]}))
    with pytest.raises(WixUnavailable, match="unexpected list-by-ids answer"):
        api.existing_fulfillments(SITE, ["o1"])


def test_a_slow_read_is_retried_but_a_slow_create_is_an_unknown_outcome(
    wix: ScriptedWix,
) -> None:
    wix.on(LIST, Answer(body=listing("o1"), delay=1.0), Answer(body=listing("o1")))
    wix.on(BULK, Answer(body={"results": []}, delay=1.0))
    api, _ = client(wix, read_timeout=0.3)

    assert api.existing_fulfillments(SITE, ["o1"]) == {"o1": []}
    with pytest.raises(CreateOutcomeUnknown, match="ReadTimeoutError"):
        api.create_fulfillments(SITE, [request("o1")])


def test_a_create_answered_with_5xx_or_garbage_is_an_unknown_outcome(wix: ScriptedWix) -> None:
    api, _ = client(wix)
    wix.on(BULK, Answer(502))
    with pytest.raises(CreateOutcomeUnknown):
        api.create_fulfillments(SITE, [request("o1")])
    wix.on(BULK, Answer(200, b"not json"))
    with pytest.raises(CreateOutcomeUnknown):
        api.create_fulfillments(SITE, [request("o1")])
    assert len(wix.calls(BULK)) == 2


def test_bulk_results_are_matched_by_original_index_and_gaps_left_open(
    wix: ScriptedWix,
) -> None:
    wix.on(
        BULK,
        Answer(
            body={
                "results": [
                    {
                        "itemMetadata": {"originalIndex": 2, "success": True},
                        "ordersWithFulfillments": {"orderId": "o3", "fulfillments": [{"id": "f3"}]},
                    },
                    {
                        "itemMetadata": {
                            "originalIndex": 0,
                            "success": False,
                            "error": {"code": "ORDER_NOT_APPROVED", "description": "canceled"},
                        }
                    },
                    {"itemMetadata": "garbage"},
                ]
            }
        ),
    )
    api, _ = client(wix)

    results = api.create_fulfillments(SITE, [request("o1"), request("o2"), request("o3")])

    assert results == [
        CreateResult("o3", ("f3",)),
        CreateResult("o1", (), "ORDER_NOT_APPROVED", "canceled"),
    ]


def test_a_bulk_refused_whole_is_retried_order_by_order(wix: ScriptedWix) -> None:
    wix.on(BULK, Answer(400, {"message": "bad", "details": {"validationError": {}}}))
    wix.on(
        "/ecom/v1/fulfillments/orders/o1/create-fulfillment",
        Answer(body={"orderWithFulfillments": {"orderId": "o1", "fulfillments": [{"id": "f1"}]}}),
    )
    wix.on(
        "/ecom/v1/fulfillments/orders/o2/create-fulfillment",
        Answer(400, {"message": "no", "details": {"applicationError": {"code": "NOPE"}}}),
    )
    api, _ = client(wix)

    results = api.create_fulfillments(SITE, [request("o1"), request("o2")])

    assert results == [CreateResult("o1", ("f1",)), CreateResult("o2", (), "NOPE", "no")]


def test_a_token_refused_is_never_taken_for_an_orders_verdict(wix: ScriptedWix) -> None:
    wix.on(TOKEN, Answer(400, {"message": "unknown instance"}))
    api, _ = client(wix)

    with pytest.raises(TokenUnavailable, match="no access token"):
        api.create_fulfillments(SITE, [request("o1")])
    assert wix.calls(BULK) == []
