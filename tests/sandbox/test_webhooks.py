"""order_approved webhooks: Wix's wire format, its resend schedule, duplicates and reordering."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from typing import Any

import jwt
import pytest

from infra.local_stack.dynamodb_local import free_loopback_port
from infra.samples.dev_data import sample_flow_order, seed_envelope
from infra.wix_sandbox import SandboxClient, SandboxControlError
from infra.wix_sandbox.webhooks import MAX_ATTEMPTS, RESEND_SCHEDULE_SECONDS
from tests.support.sandbox import MakeSandbox
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import INSTANCE_ID, SEED_EVENT_ID, SEED_ORDER_ID
from wix_fulfillment.core.model import ApprovedOrder
from wix_fulfillment.core.order_event import parse_webhook_claims


def decoded(token: str, public_key_pem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The verified claims and the event envelope nested in them."""
    claims: dict[str, Any] = jwt.decode(token, public_key_pem, algorithms=["RS256"])
    envelope: dict[str, Any] = json.loads(json.loads(claims["data"])["data"])
    return claims, envelope


def test_the_seed_event_arrives_signed_with_the_served_key_in_wixs_wire_format(
    make_sandbox: MakeSandbox,
) -> None:
    with WebhookReceiver() as receiver:
        control = make_sandbox(webhook_url=receiver.url).client()
        control.create_site(INSTANCE_ID)
        seed = seed_envelope()

        control.create_orders(
            INSTANCE_ID, order=seed["actionEvent"]["body"]["order"], event_id=seed["id"]
        )

        [delivery] = control.wait_for_deliveries(order_id=SEED_ORDER_ID)
        public_key = control.public_key_pem()
    assert delivery["state"] == "delivered"
    assert [attempt["status"] for attempt in delivery["attempts"]] == [200]
    [received] = receiver.received
    assert received.path == "/webhooks/wix"
    assert received.content_type == "text/plain"
    claims, envelope = decoded(received.body, public_key)
    assert set(claims) == {"data", "iat", "exp"}
    assert claims["exp"] > claims["iat"] >= time.time() - 60
    webhook = json.loads(claims["data"])
    assert webhook["eventType"] == "wix.ecom.v1.order_approved"
    assert webhook["instanceId"] == INSTANCE_ID
    assert json.loads(webhook["identity"])["identityType"]
    assert envelope.pop("eventTime") != seed.pop("eventTime")
    assert envelope == seed
    parsed = parse_webhook_claims(claims)
    assert isinstance(parsed, ApprovedOrder)
    assert (parsed.event_id, parsed.order_id) == (SEED_EVENT_ID, SEED_ORDER_ID)


def test_a_receiver_that_fails_twice_is_retried_on_wixs_compressed_schedule(
    make_sandbox: MakeSandbox,
) -> None:
    compression = 300.0  # Wix's 1 min, 10 min and 1 h become 0.2 s, 2 s and 12 s
    with WebhookReceiver([500, 500]) as receiver:
        control = make_sandbox(webhook_url=receiver.url, resend_compression=compression).client()
        site = control.create_site()
        order_id = control.create_order(site, order=sample_flow_order())["id"]

        [delivery] = control.wait_for_deliveries(order_id=order_id)
    assert delivery["state"] == "delivered"
    assert [attempt["status"] for attempt in delivery["attempts"]] == [500, 500, 200]
    steps = [seconds / compression for seconds in RESEND_SCHEDULE_SECONDS[:3]]
    arrived = [item.at for item in receiver.received]
    started = [attempt["startedAt"] for attempt in delivery["attempts"]]
    for moments in (arrived, started):
        gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
        assert len(gaps) == 2
        for gap, step, next_step in zip(gaps, steps, steps[1:], strict=False):
            # Never early, and late by less than half the way to the schedule's next step: no
            # gap can pass for its neighbour's, however slow a loaded machine is to wake up.
            assert step <= gap < (step + next_step) / 2
    stats = control.stats()["webhooks"]
    assert stats == {
        "deliveries": 1,
        "attempts": 3,
        "delivered": 1,
        "failed": 0,
        "lost": 0,
        "pending": 0,
    }


def test_after_the_last_of_wixs_13_attempts_the_delivery_has_failed(
    make_sandbox: MakeSandbox,
) -> None:
    with WebhookReceiver(default_status=503) as receiver:
        control = make_sandbox(webhook_url=receiver.url, resend_compression=2_000_000).client()
        order_id = control.create_order(control.create_site(), generate={})["id"]

        [delivery] = control.wait_for_deliveries(order_id=order_id)
    assert MAX_ATTEMPTS == 13
    assert delivery["state"] == "failed"
    assert [attempt["number"] for attempt in delivery["attempts"]] == list(range(1, 14))
    assert len(receiver.received) == 13
    assert control.stats()["webhooks"]["failed"] == 1


def test_an_unreachable_receiver_is_retried_like_a_failing_one(make_sandbox: MakeSandbox) -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}/webhooks/wix"
    control = make_sandbox(webhook_url=url, resend_compression=2_000_000).client()
    order_id = control.create_order(control.create_site(), generate={})["id"]

    [delivery] = control.wait_for_deliveries(order_id=order_id)

    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == 13
    assert {attempt["status"] for attempt in delivery["attempts"]} == {None}
    assert "ConnectionRefusedError" in delivery["attempts"][0]["error"]


def test_an_answer_later_than_wixs_deadline_is_a_failed_attempt(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver(delay=0.5) as receiver:
        sandbox = make_sandbox(webhook_url=receiver.url, webhook_timeout_seconds=0.1)
        control = sandbox.client()
        order_id = control.create_order(control.create_site(), generate={})["id"]
        deadline = time.monotonic() + 5
        while not control.deliveries(order_id)["deliveries"][0]["attempts"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)

        [delivery] = control.deliveries(order_id)["deliveries"]
    assert delivery["state"] == "pending"
    assert delivery["attempts"][0]["error"] == "no answer within 0.1 s"
    assert delivery["nextAttemptAt"] == pytest.approx(time.time() + 60, abs=5)


def test_creating_an_order_does_not_wait_for_the_delivery(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver(held=True) as receiver:
        control = make_sandbox(webhook_url=receiver.url, webhook_timeout_seconds=20).client()

        created = control.create_orders(control.create_site(), generate={})

        # The receiver answers nothing until released: a sandbox that waited for the delivery
        # would answer only once the attempt had failed, 20 s later.
        [delivery] = control.deliveries(created["orders"][0]["id"])["deliveries"]
        assert (delivery["state"], delivery["attempts"]) == ("pending", [])
        assert receiver.wait_for_arrivals(1)
        receiver.release()
        [delivery] = control.wait_for_deliveries()
    assert [attempt["status"] for attempt in delivery["attempts"]] == [200]


def test_duplicates_carry_the_same_event_byte_for_byte_one_after_another(
    make_sandbox: MakeSandbox,
) -> None:
    with WebhookReceiver(delay=0.05) as receiver:
        control = make_sandbox(webhook_url=receiver.url).client()
        created = control.create_orders(control.create_site(), generate={}, delivery={"copies": 3})

        deliveries = control.wait_for_deliveries()
    assert len(created["deliveries"]) == 3
    assert len({delivery["eventId"] for delivery in deliveries}) == 1
    assert len(set(receiver.bodies())) == 1
    arrivals = [item.at for item in receiver.received]
    assert all(later - earlier >= 0.05 for earlier, later in itertools.pairwise(arrivals))


def test_concurrent_duplicates_arrive_at_the_same_time(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver(held=True) as receiver:
        control = make_sandbox(webhook_url=receiver.url, webhook_timeout_seconds=20).client()
        control.create_orders(
            control.create_site(), generate={}, delivery={"copies": 0, "concurrentCopies": 4}
        )

        # Nothing is answered before all four are in: they are in flight together, as the
        # copies Wix sends at once race in the webhook function.
        assert receiver.wait_for_arrivals(4)
        receiver.release()
        deliveries = control.wait_for_deliveries()
    assert [delivery["state"] for delivery in deliveries] == ["delivered"] * 4
    assert [len(delivery["attempts"]) for delivery in deliveries] == [1] * 4
    assert len(set(receiver.bodies())) == 1


def test_extra_events_for_the_same_order_carry_new_event_ids(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver() as receiver:
        control = make_sandbox(webhook_url=receiver.url).client()
        order_id = control.create_order(
            control.create_site(), generate={}, delivery={"extraEvents": 2}
        )["id"]

        control.wait_for_deliveries(order_id)
        public_key = control.public_key_pem()
    envelopes = [decoded(body, public_key)[1] for body in receiver.bodies()]
    assert len({envelope["id"] for envelope in envelopes}) == 3
    assert {envelope["entityId"] for envelope in envelopes} == {order_id}


def shuffled_order_of_arrival(make_sandbox: MakeSandbox, seed: int) -> list[int]:
    """Which of six created orders arrived first, second, ... (indexes into the creation)."""
    with WebhookReceiver() as receiver:
        sandbox = make_sandbox(webhook_url=receiver.url, fault_seed=seed)
        control = sandbox.client()
        created = control.create_orders(
            control.create_site(), generate={"count": 6}, delivery={"shuffle": True}
        )
        control.wait_for_deliveries()
        public_key = control.public_key_pem()
    order_ids = [order["id"] for order in created["orders"]]
    arrived = [decoded(body, public_key)[1]["entityId"] for body in receiver.bodies()]
    assert arrived == [delivery["orderId"] for delivery in created["deliveries"]]
    return [order_ids.index(order_id) for order_id in arrived]


def test_shuffled_deliveries_of_several_orders_come_in_a_seeded_order(
    make_sandbox: MakeSandbox,
) -> None:
    first = shuffled_order_of_arrival(make_sandbox, seed=11)

    assert sorted(first) == list(range(6))
    assert first != list(range(6))
    assert shuffled_order_of_arrival(make_sandbox, seed=11) == first
    assert shuffled_order_of_arrival(make_sandbox, seed=12) != first


def test_an_order_is_delivered_again_on_request(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver() as receiver:
        control = make_sandbox(webhook_url=receiver.url).client()
        order_id = control.create_order(control.create_site(), generate={})["id"]
        control.wait_for_deliveries(order_id)
        [first] = receiver.bodies()

        same = control.send_webhooks(order_id)
        anew = control.send_webhooks(order_id, same_event=False)
        control.wait_for_deliveries(order_id)
        public_key = control.public_key_pem()
    # The two run on their own threads and may arrive in either order: match them by event id.
    bodies = receiver.bodies()
    original = decoded(first, public_key)[1]["id"]
    arrived = Counter(decoded(body, public_key)[1]["id"] for body in bodies)
    assert same[0]["eventId"] == original != anew[0]["eventId"]
    assert arrived == {original: 2, anew[0]["eventId"]: 1}
    assert bodies.count(first) == 2  # the same event again, byte for byte


def test_only_approved_orders_are_announced(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver() as receiver:
        control = make_sandbox(webhook_url=receiver.url).client()
        site = control.create_site()

        canceled = control.create_orders(site, order={**sample_flow_order(), "status": "CANCELED"})
        quiet = control.create_orders(site, generate={}, deliver_webhook=False)

    assert canceled["deliveries"] == quiet["deliveries"] == []
    assert receiver.received == []


def test_without_a_webhook_url_orders_are_stored_and_can_be_announced_later(
    make_sandbox: MakeSandbox,
) -> None:
    control = make_sandbox().client()
    created = control.create_orders(control.create_site(), generate={})
    order_id = created["orders"][0]["id"]
    assert created["deliveries"] == []

    with pytest.raises(SandboxControlError) as refused:
        control.send_webhooks(order_id, same_event=False)
    with WebhookReceiver() as receiver:
        control.configure(webhookUrl=receiver.url)
        control.send_webhooks(order_id, same_event=False)
        control.wait_for_deliveries(order_id)

    assert refused.value.status == 409
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    ["http://example.com/webhooks", "https://127.0.0.1/webhooks", "http://10.0.0.1:8080/"],
)
def test_webhooks_go_to_this_machine_only(control: SandboxClient, url: str) -> None:
    with pytest.raises(SandboxControlError) as refused:
        control.configure(webhookUrl=url)

    assert refused.value.status == 400
    assert control.config()["webhookUrl"] is None


def test_the_in_process_sandbox_waits_for_deliveries_and_knows_its_key(
    make_sandbox: MakeSandbox,
) -> None:
    with WebhookReceiver([500]) as receiver:
        sandbox = make_sandbox(webhook_url=receiver.url, resend_compression=6000)
        order_id = sandbox.client().create_order(sandbox.client().create_site(), generate={})["id"]

        [delivery] = sandbox.wait_for_deliveries(order_id)

    assert [attempt["status"] for attempt in delivery["attempts"]] == [500, 200]
    assert sandbox.public_key_pem == sandbox.client().public_key_pem()
    assert jwt.decode(receiver.bodies()[-1], sandbox.public_key_pem, algorithms=["RS256"])
