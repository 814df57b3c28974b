"""Injected faults: per endpoint, reproducible from a seed, as a client meets them on the wire."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
import urllib3

from infra.wix_sandbox import FaultSpec, SandboxClient, SandboxControlError, WixSandbox
from infra.wix_sandbox.clock import ManualClock
from tests.sandbox.tracking import new_fedex
from tests.support.sandbox import MakeSandbox, access_token
from tests.support.wix_http import WixHttp, line

MIXED_FAULTS: dict[str, dict[str, float]] = {
    "create": {
        "errorRate": 0.2,
        "errorStatus": 503,
        "throttleRate": 0.2,
        "timeoutRate": 0.1,
        "timeoutSeconds": 1.5,
        "dropRate": 0.1,
    }
}
# Long enough for any real answer on a loaded machine, well short of the held requests' 1.5 s.
PATIENCE_SECONDS = 0.5


def outcome(call: Any) -> str:
    """What the client saw: the status, or how the exchange broke off."""
    try:
        return str(call().status)
    except urllib3.exceptions.ReadTimeoutError:
        return "timeout"
    except urllib3.exceptions.ProtocolError:
        return "dropped"


@pytest.fixture
def big_order(control: SandboxClient, site: str) -> str:
    order_id: str = control.create_order(site, generate={"quantity": 1000})["id"]
    return order_id


def create_outcomes(wix: WixHttp, token: str, order_id: str, count: int) -> list[str]:
    impatient = WixHttp(wix.base_url, timeout=PATIENCE_SECONDS)
    return [outcome(lambda: impatient.create(token, order_id, shipment())) for _ in range(count)]


def shipment() -> dict[str, Any]:
    return {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()}


def stats_once_counted(control: SandboxClient, endpoint: str, calls: int) -> dict[str, Any]:
    """The stats once ``calls`` calls to ``endpoint`` are in them: a held request is counted
    only when the sandbox lets it go, after the client has given up on it."""
    deadline = time.monotonic() + 10
    while True:
        stats = control.stats()
        if sum(stats["calls"].get(endpoint, {}).values()) >= calls:
            return stats
        assert time.monotonic() < deadline, stats["calls"]
        time.sleep(0.05)


def test_the_same_seed_gives_the_same_sequence_of_faults(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    control.set_faults(MIXED_FAULTS, seed=42)
    first = create_outcomes(wix, token, big_order, 30)
    control.set_faults(MIXED_FAULTS, seed=42)
    second = create_outcomes(wix, token, big_order, 30)
    control.set_faults(MIXED_FAULTS, seed=43)
    other_seed = create_outcomes(wix, token, big_order, 30)

    assert first == second
    assert other_seed != first
    assert set(first) == {"200", "503", "429", "timeout", "dropped"}


def test_a_dropped_create_was_committed_and_other_faults_create_nothing(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    control.set_faults(MIXED_FAULTS, seed=42)

    seen = Counter(create_outcomes(wix, token, big_order, 30))

    stats = stats_once_counted(control, "create", 30)
    created = len(control.order(big_order)["fulfillments"])
    assert created == seen["200"] + seen["dropped"]
    assert stats["calls"]["create"] == {
        "200": seen["200"],
        "503": seen["503"],
        "429": seen["429"],
        "timeout": seen["timeout"],
        "dropped": seen["dropped"],
    }
    assert stats["faultsInjected"]["create"] == {
        "error": seen["503"],
        "throttle": seen["429"],
        "timeout": seen["timeout"],
        "drop": seen["dropped"],
    }
    assert stats["throttled"] == seen["429"]
    assert stats["throttledByRateLimit"] == 0


def test_each_endpoint_keeps_its_own_sequence_whatever_the_others_do(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    plan = {**MIXED_FAULTS, "list": {"errorRate": 0.5}}
    control.set_faults(plan, seed=7)
    alone = create_outcomes(wix, token, big_order, 12)
    control.set_faults(plan, seed=7)

    interleaved = []
    for _ in range(12):
        wix.list_one(token, big_order)
        interleaved.extend(create_outcomes(wix, token, big_order, 1))

    assert interleaved == alone


def test_commit_then_drop_creates_the_fulfillment_but_answers_nothing(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    control.set_faults({"create": {"dropRate": 1.0}})

    with pytest.raises(urllib3.exceptions.ProtocolError):
        wix.create(token, big_order, {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()})

    assert len(wix.list_one(token, big_order).body["orderWithFulfillments"]["fulfillments"]) == 1


def test_a_timeout_holds_the_request_then_closes_without_an_answer(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    control.set_faults({"create": {"timeoutRate": 1.0, "timeoutSeconds": 0.25}})
    started = time.monotonic()

    with pytest.raises(urllib3.exceptions.ProtocolError):
        wix.create(token, big_order, {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()})

    assert time.monotonic() - started >= 0.25
    assert control.order(big_order)["fulfillments"] == []


def test_latency_is_added_to_every_answer(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    control.set_faults({"list": {"latencyMs": 150}})
    started = time.monotonic()

    answer = wix.list_one(token, big_order)

    assert answer.status == 200
    assert time.monotonic() - started >= 0.15


def test_an_injected_error_has_wixs_error_shape(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str
) -> None:
    control.set_faults({"token": {"errorRate": 1.0, "errorStatus": 502}})

    answer = wix.token_answer(site, sandbox.app_id, sandbox.app_secret)

    assert answer.status == 502
    assert answer.error_code == "INTERNAL"


def test_faults_can_be_set_at_start_and_reset_restores_them(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox(faults={"list": FaultSpec(throttle_rate=1.0)}, fault_seed=3)
    control, wix = sandbox.client(), WixHttp(sandbox.base_url)
    site = control.create_site()
    order_id = control.create_order(site, generate={})["id"]
    token = access_token(wix, sandbox, site)
    assert wix.list_one(token, order_id).status == 429

    control.clear_faults()
    assert wix.list_one(token, order_id).status == 200
    control.reset()

    assert control.faults() == {
        "seed": 3,
        "endpoints": {"list": FaultSpec(throttle_rate=1.0).to_json()},
    }
    assert control.stats()["calls"] == {}
    assert wix.list_one(token, order_id).status == 429


@pytest.mark.parametrize(
    "endpoints",
    [
        {"orders": {"errorRate": 0.1}},
        {"create": {"errorRate": 0.6, "dropRate": 0.6}},
        {"create": {"dropRate": 0.6, "lateRate": 0.6}},
        {"create": {"errorRate": 1.0, "forSeconds": -1}},
        {"create": {"errorRate": -0.1}},
        {"create": {"errorStatus": 404, "errorRate": 0.1}},
        {"create": {"surprise": 1}},
        {"create": "often"},
    ],
)
def test_a_malformed_fault_plan_is_refused(control: SandboxClient, endpoints: Any) -> None:
    with pytest.raises(SandboxControlError) as refused:
        control.set_faults(endpoints)

    assert refused.value.status == 400
    assert control.faults()["endpoints"] == {}


def test_stopping_the_sandbox_releases_a_held_request(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox()
    control = sandbox.client()
    control.set_faults({"token": {"timeoutRate": 1.0, "timeoutSeconds": 30}})
    wix = WixHttp(sandbox.base_url)
    outcomes: list[str] = []
    caller = threading.Thread(
        target=lambda: outcomes.append(outcome(lambda: wix.token_answer("x", "y", "z")))
    )
    caller.start()
    deadline = time.monotonic() + 10
    while not control.stats()["faultsInjected"].get("token"):  # the request is held now
        assert time.monotonic() < deadline
        time.sleep(0.02)
    started = time.monotonic()

    sandbox.stop()

    caller.join(timeout=5)
    assert time.monotonic() - started < 2
    assert outcomes == ["dropped"]


def test_faults_for_an_unknown_endpoint_are_refused_at_start(make_sandbox: MakeSandbox) -> None:
    with pytest.raises(ValueError, match="orders"):
        make_sandbox(faults={"orders": FaultSpec(error_rate=0.5)})


def test_faults_can_be_scoped_to_some_sites(
    wix: WixHttp, control: SandboxClient, sandbox: WixSandbox, site: str, token: str
) -> None:
    healthy_site = control.create_site()
    healthy_token = access_token(wix, sandbox, healthy_site)
    control.set_faults({"listByIds": {"errorRate": 1.0, "instanceIds": [site]}}, seed=1)

    order_id = "11111111-2222-4333-8444-555555555555"
    failing = [wix.list_by_ids(token, [order_id]).status for _ in range(5)]
    healthy = [wix.list_by_ids(healthy_token, [order_id]).status for _ in range(5)]

    assert failing == [500] * 5
    assert healthy == [200] * 5
    assert control.faults()["endpoints"]["listByIds"]["instanceIds"] == [site]


def test_a_late_answer_comes_after_the_create_has_committed(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    control.set_faults({"create": {"lateRate": 1.0, "lateSeconds": 1.0}})
    answers: list[int] = []
    caller = threading.Thread(
        target=lambda: answers.append(wix.create(token, big_order, shipment()).status)
    )
    caller.start()
    deadline = time.monotonic() + 10
    while not control.order(big_order)["fulfillments"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)

    committed_before_the_answer = answers == []

    caller.join(timeout=5)
    assert committed_before_the_answer
    assert answers == [200]
    assert len(control.order(big_order)["fulfillments"]) == 1
    assert control.stats()["faultsInjected"]["create"] == {"late": 1}


def test_timed_faults_end_after_their_seconds(make_sandbox: MakeSandbox) -> None:
    clock = ManualClock()
    sandbox = make_sandbox(clock=clock)
    control, wix = sandbox.client(), WixHttp(sandbox.base_url)
    site = control.create_site()
    order_id = control.create_order(site, generate={"quantity": 10})["id"]
    token = access_token(wix, sandbox, site)
    control.set_faults({"create": {"errorRate": 1.0, "errorStatus": 503, "forSeconds": 60}})

    during = [wix.create(token, order_id, shipment()).status for _ in range(3)]
    clock.advance(59.9)
    at_the_end = wix.create(token, order_id, shipment()).status
    clock.advance(0.1)
    after = [wix.create(token, order_id, shipment()).status for _ in range(2)]

    assert (during, at_the_end, after) == ([503] * 3, 503, [200] * 2)
    assert len(control.order(order_id)["fulfillments"]) == 2
    assert control.faults()["endpoints"]["create"]["forSeconds"] == 60


def test_a_stale_listing_leaves_out_the_fulfillments_made_since(
    wix: WixHttp, control: SandboxClient, token: str, big_order: str
) -> None:
    assert wix.create(token, big_order, shipment()).status == 200
    control.set_faults({"listByIds": {"staleRate": 1.0, "staleSeconds": 60.0}})

    stale = wix.list_by_ids(token, [big_order]).body

    control.clear_faults()
    fresh = wix.list_by_ids(token, [big_order]).body
    assert stale["ordersWithFulfillments"][0]["fulfillments"] == []
    assert len(fresh["ordersWithFulfillments"][0]["fulfillments"]) == 1
    assert control.stats()["faultsInjected"]["listByIds"] == {"stale": 1}
