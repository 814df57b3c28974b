"""The webhooks Wix sends after an approval (canceled, payment status updated), in Wix's format
(pretty-printed nested JSON, Wix's token lifetime), held back or out of order, or lost for good;
and the orders that tell a fulfiller what is not its to ship (unpaid, pickup, another
fulfiller's lines)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest

from infra.wix_sandbox import SandboxClient, SandboxControlError, WixSandbox
from infra.wix_sandbox.order_factory import OTHER_FULFILLER_ID
from tests.support.sandbox import MakeSandbox, access_token
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.wix_http import WixHttp

APPROVED = "wix.ecom.v1.order_approved"
CANCELED = "wix.ecom.v1.order_canceled"
PAYMENT = "wix.ecom.v1.order_payment_status_updated"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiving:
        yield receiving


@pytest.fixture
def wix_sandbox(make_sandbox: MakeSandbox, receiver: WebhookReceiver) -> WixSandbox:
    return make_sandbox(webhook_url=receiver.url)


@pytest.fixture
def wix_control(wix_sandbox: WixSandbox) -> Iterator[SandboxClient]:
    client = wix_sandbox.client()
    yield client
    client.close()


def events(receiver: WebhookReceiver, public_key: str) -> list[dict[str, Any]]:
    """Each received webhook as ``{"claims", "webhook", "data"}``: verified, then unnested."""
    unpacked = []
    for body in receiver.bodies():
        claims = jwt.decode(body, public_key, algorithms=["RS256"])
        webhook = json.loads(claims["data"])
        unpacked.append({"claims": claims, "webhook": webhook, "data": json.loads(webhook["data"])})
    return unpacked


def one_order(control: SandboxClient, site: str, **options: Any) -> dict[str, Any]:
    generate = {"kind": "physical", "quantity": 3, **options.pop("generate", {})}
    return control.create_order(site, generate=generate, **options)


def test_webhooks_nest_json_pretty_printed_as_wix_does_in_a_token_of_wixs_lifetime(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    order = one_order(wix_control, wix_control.create_site())
    wix_control.wait_for_deliveries(order["id"])

    [body] = receiver.bodies()
    claims = jwt.decode(body, wix_control.public_key_pem(), algorithms=["RS256"])
    webhook = json.loads(claims["data"])

    assert claims["exp"] - claims["iat"] == 3_600_000
    assert webhook["data"].startswith('{\n  "id" : "')
    assert '\n  "entityFqdn" : "wix.ecom.v1.order",' in webhook["data"]
    assert json.loads(webhook["data"])["actionEvent"]["body"]["order"]["id"] == order["id"]


def test_tokens_without_exp_and_compact_json_on_request(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    wix_control.configure(webhookTokenLifetimeSeconds=None, webhookPrettyJson=False)
    order = one_order(wix_control, wix_control.create_site())
    wix_control.wait_for_deliveries(order["id"])

    [body] = receiver.bodies()
    claims = jwt.decode(body, wix_control.public_key_pem(), algorithms=["RS256"])

    assert set(claims) == {"data", "iat"}
    assert "\n" not in claims["data"]
    assert wix_control.config()["webhookTokenLifetimeSeconds"] is None


def test_a_cancellation_sends_order_canceled_with_the_canceled_order(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    order = one_order(wix_control, wix_control.create_site())
    wix_control.wait_for_deliveries(order["id"])

    canceled = wix_control.cancel_order(order["id"])
    wix_control.wait_for_deliveries(order["id"])

    [approval, cancellation] = events(receiver, wix_control.public_key_pem())
    assert approval["webhook"]["eventType"] == APPROVED
    assert cancellation["webhook"]["eventType"] == CANCELED
    envelope = cancellation["data"]
    assert (envelope["slug"], envelope["entityId"]) == ("canceled", order["id"])
    assert envelope["actionEvent"]["body"]["order"]["status"] == "CANCELED"
    assert envelope["id"] != approval["data"]["id"]
    assert canceled["updatedDate"] > order["updatedDate"]


def test_an_unpaid_order_is_approved_and_its_payment_sends_the_previous_status(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    order = one_order(
        wix_control, wix_control.create_site(), generate={"paymentStatus": "NOT_PAID"}
    )
    wix_control.wait_for_deliveries(order["id"])

    paid = wix_control.set_payment_status(order["id"], "PAID")
    wix_control.wait_for_deliveries(order["id"])

    [approval, payment] = events(receiver, wix_control.public_key_pem())
    approved = approval["data"]["actionEvent"]["body"]["order"]
    assert (approved["status"], approved["paymentStatus"]) == ("APPROVED", "NOT_PAID")
    assert payment["webhook"]["eventType"] == PAYMENT
    assert payment["data"]["slug"] == "payment_status_updated"
    body = payment["data"]["actionEvent"]["body"]
    assert body["previousPaymentStatus"] == "NOT_PAID"
    assert body["order"]["paymentStatus"] == paid["paymentStatus"] == "PAID"


def test_refunds_count_units_per_line_and_set_the_payment_status(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    order = one_order(wix_control, wix_control.create_site())
    line_id = order["lineItems"][0]["id"]
    wix_control.wait_for_deliveries(order["id"])

    partly = wix_control.refund(order["id"], {line_id: 1})
    wholly = wix_control.refund(order["id"], {line_id: 2})
    wix_control.wait_for_deliveries(order["id"])
    with pytest.raises(SandboxControlError, match="more units refunded than ordered"):
        wix_control.refund(order["id"], {line_id: 1})

    assert partly["lineItems"][0]["refundQuantity"] == 1
    assert partly["paymentStatus"] == "PARTIALLY_REFUNDED"
    assert wholly["lineItems"][0]["refundQuantity"] == 3
    assert wholly["paymentStatus"] == "FULLY_REFUNDED"
    updates = [
        e["data"]["actionEvent"]["body"] for e in events(receiver, wix_control.public_key_pem())[1:]
    ]
    assert [u["previousPaymentStatus"] for u in updates] == ["PAID", "PARTIALLY_REFUNDED"]


def test_a_held_approval_can_come_after_the_cancellation_and_twice(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    created = wix_control.create_orders(
        wix_control.create_site(), generate={"kind": "physical"}, hold_webhook=True
    )
    [order] = created["orders"]

    wix_control.cancel_order(order["id"])
    wix_control.wait_for_deliveries(order["id"])
    late = wix_control.send_webhooks(order["id"], delivery={"copies": 2})
    wix_control.wait_for_deliveries(order["id"])

    assert created["deliveries"] == []
    received = events(receiver, wix_control.public_key_pem())
    assert [e["webhook"]["eventType"] for e in received] == [CANCELED, APPROVED, APPROVED]
    assert received[1]["data"] == received[2]["data"]  # the same event, sent twice
    assert received[1]["data"]["actionEvent"]["body"]["order"]["status"] == "APPROVED"
    assert {d["eventType"] for d in late} == {APPROVED}


def test_changes_can_be_kept_unsent_and_sent_later(
    wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    order = one_order(wix_control, wix_control.create_site(), deliver_webhook=False)

    answer = wix_control.change_order_with_deliveries(
        order["id"], status="CANCELED", deliver_webhook=False
    )
    wix_control.send_webhooks(order["id"], event_type=CANCELED)
    wix_control.wait_for_deliveries(order["id"])

    assert answer["deliveries"] == []
    assert [e["webhook"]["eventType"] for e in events(receiver, wix_control.public_key_pem())] == [
        CANCELED
    ]


def test_lost_webhooks_are_never_sent_yet_search_orders_finds_the_order(
    wix_sandbox: WixSandbox, wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    site = wix_control.create_site()
    created = wix_control.create_orders(
        site, generate={"kind": "physical", "count": 2}, lose_webhooks=True
    )
    first = created["orders"][0]["id"]
    wix_control.cancel_order(first)
    wix = WixHttp(wix_sandbox.base_url)
    token = access_token(wix, wix_sandbox, site)

    settled = wix_control.wait_for_deliveries(instance_id=site)
    found = wix.call("POST", "/ecom/v1/orders/search", {"search": {}}, token=token)

    assert {d["state"] for d in settled} == {"lost"}
    assert len(settled) == 3  # two approvals and one cancellation, none sent
    assert receiver.received == []
    assert {o["id"] for o in found.body["orders"]} == {o["id"] for o in created["orders"]}
    assert wix_control.stats()["webhooks"]["lost"] == 3


def test_losing_an_orders_webhooks_stops_its_resends(make_sandbox: MakeSandbox) -> None:
    with WebhookReceiver(default_status=500) as failing:
        control = make_sandbox(webhook_url=failing.url, resend_compression=60).client()
        order = one_order(control, control.create_site())
        first_attempt_made = _wait_for_attempts(control, order["id"], 1)

        pending = control.lose_webhooks([order["id"]])
        [delivery] = control.wait_for_deliveries(order["id"])

    assert first_attempt_made
    assert pending == 1
    assert delivery["state"] == "lost"
    assert len(delivery["attempts"]) == 1


def _wait_for_attempts(control: SandboxClient, order_id: str, attempts: int) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        [delivery] = control.deliveries(order_id)["deliveries"]
        if len(delivery["attempts"]) >= attempts:
            return True
        time.sleep(0.02)
    return False


def test_generated_orders_can_be_for_pickup_or_partly_another_fulfillers(
    control: SandboxClient, site: str
) -> None:
    pickup = one_order(control, site, generate={"pickup": True}, deliver_webhook=False)
    shared = one_order(
        control, site, generate={"lineItems": 3, "otherFulfillerLines": 2}, deliver_webhook=False
    )

    logistics = pickup["shippingInfo"]["logistics"]
    assert logistics["pickupDetails"]["pickupMethod"] == "STORE_PICKUP"
    assert "shippingDestination" not in logistics
    assert [line.get("fulfillerId") for line in shared["lineItems"]] == [
        OTHER_FULFILLER_ID,
        OTHER_FULFILLER_ID,
        None,
    ]
    assert pickup["status"] == shared["status"] == "APPROVED"


def test_app_instance_installed_and_removed_in_wixs_format(
    wix_sandbox: WixSandbox, wix_control: SandboxClient, receiver: WebhookReceiver
) -> None:
    origin = wix_control.create_site()
    installed = wix_control.install_site(origin_instance_id=origin)
    site = installed["instanceId"]
    wix = WixHttp(wix_sandbox.base_url)
    token = access_token(wix, wix_sandbox, site)

    removed = wix_control.remove_site(site)
    wix_control.wait_for_deliveries(instance_id=site)
    refused = wix.call("POST", "/ecom/v1/orders/search", {"search": {}}, token=token)
    no_token = wix.token_answer(site, wix_sandbox.app_id, wix_sandbox.app_secret)

    [install, removal] = events(receiver, wix_control.public_key_pem())
    assert install["webhook"]["eventType"] == "AppInstalled"
    assert install["webhook"]["instanceId"] == site
    assert install["data"] == {"appId": wix_sandbox.app_id, "originInstanceId": origin}
    assert removal["webhook"]["eventType"] == "AppRemoved"
    assert removal["data"] == {"appId": wix_sandbox.app_id}
    assert [d["eventType"] for d in installed["deliveries"] + removed["deliveries"]] == [
        "AppInstalled",
        "AppRemoved",
    ]
    assert refused.status == 401
    assert (no_token.status, no_token.error_code) == (400, "APP_NOT_INSTALLED")
    assert site not in wix.call("GET", "/_sandbox/sites").body["instanceIds"]
