"""Parsing the verified claims into the order projection (pure: no AWS, no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.webhooks import (
    INSTANCE_ID,
    SEED_EVENT_ID,
    SEED_ORDER_ID,
    claims_for,
    seed_order_envelope,
)
from wix_fulfillment.core.model import ApprovedOrder, IgnoredEvent, LineItem
from wix_fulfillment.core.order_event import MalformedEvent, parse_webhook_claims


def with_line_items(*line_items: dict[str, Any]) -> dict[str, Any]:
    envelope = seed_order_envelope()
    envelope["actionEvent"]["body"]["order"]["lineItems"] = list(line_items)
    return envelope


def line(item_id: str = "00000000-0000-0000-0000-000000000001", **fields: Any) -> dict[str, Any]:
    return {"id": item_id, "quantity": 1, **fields}


def test_seed_payload_projects_to_the_fields_fulfillment_needs() -> None:
    assert parse_webhook_claims(claims_for(seed_order_envelope())) == ApprovedOrder(
        instance_id=INSTANCE_ID,
        order_id=SEED_ORDER_ID,
        event_id=SEED_EVENT_ID,
        order_number="10002",
        event_time="2024-01-28T14:16:58.826960306Z",
        line_items=(
            LineItem(
                id="00000000-0000-0000-0000-000000000001",
                quantity=1,
                shippable=False,
                item_type="DIGITAL",
            ),
        ),
        payment_status="PAID",
    )


def test_line_item_types_and_shippability() -> None:
    envelope = with_line_items(
        line(
            "a", quantity=3, physicalProperties={"shippable": True}, itemType={"preset": "PHYSICAL"}
        ),
        line("b", itemType={"custom": "engraving"}),
        line("c"),
        line("d", physicalProperties={"sku": ""}, itemType={"preset": ""}),
    )

    order = parse_webhook_claims(claims_for(envelope))

    assert isinstance(order, ApprovedOrder)
    assert order.line_items == (
        LineItem("a", 3, shippable=True, item_type="PHYSICAL"),
        LineItem("b", 1, shippable=False, item_type="custom:engraving"),
        LineItem("c", 1, shippable=False, item_type="UNRECOGNISED"),
        LineItem("d", 1, shippable=False, item_type="UNRECOGNISED"),
    )


def test_numeric_order_number_and_missing_optional_fields() -> None:
    envelope = seed_order_envelope()
    envelope["actionEvent"]["body"]["order"]["number"] = 10002
    del envelope["eventTime"]

    order = parse_webhook_claims(claims_for(envelope))

    assert isinstance(order, ApprovedOrder)
    assert (order.order_number, order.event_time) == ("10002", None)


def test_three_hundred_line_items_are_accepted() -> None:
    envelope = with_line_items(*(line(f"item-{index}") for index in range(300)))

    order = parse_webhook_claims(claims_for(envelope))

    assert isinstance(order, ApprovedOrder)
    assert len(order.line_items) == 300


def test_other_event_types_are_ignored_without_validation() -> None:
    claims = {"data": json.dumps({"eventType": "wix.ecom.v1.order_updated"})}

    assert parse_webhook_claims(claims) == IgnoredEvent(
        "wix.ecom.v1.order_updated", "not an order event this app acts on"
    )


def test_anonymize_requests_are_ignored() -> None:
    envelope = {"triggeredByAnonymizeRequest": True, "id": "redacted"}

    result = parse_webhook_claims(claims_for(envelope))

    assert result == IgnoredEvent("wix.ecom.v1.order_approved", "triggered by an anonymize request")


@pytest.mark.parametrize(
    ("line_items", "message"),
    [
        ([], "'lineItems' must be a non-empty list"),
        ([line(), line()], "line item ids must be unique"),
        ([line(quantity=0)], "lineItems[0].quantity must be a whole number from 1 to 100000"),
        ([line(quantity=100_001)], "lineItems[0].quantity"),
        ([line(quantity=1.5)], "lineItems[0].quantity"),
        ([line(quantity=True)], "lineItems[0].quantity"),
        ([line(quantity="1")], "lineItems[0].quantity"),
        ([line(item_id="")], "lineItems[0].id"),
        ([line(item_id="has space")], "lineItems[0].id"),
        ([line(item_id="x" * 101)], "lineItems[0].id"),
        ([line(), "not an object"], "lineItems[1] must be a JSON object"),
        ([line(physicalProperties={"shippable": "yes"})], "lineItems[0].physicalProperties"),
        ([line(physicalProperties=[])], "lineItems[0].physicalProperties must be a JSON object"),
        ([line(itemType="PHYSICAL")], "lineItems[0].itemType must be a JSON object"),
        ([line(itemType={"custom": 7})], "lineItems[0].itemType.custom must be a string"),
        ([line(quantity=2, refundQuantity=3)], "lineItems[0].refundQuantity must be a whole"),
        ([line(refundQuantity=-1)], "lineItems[0].refundQuantity"),
        ([line(refundQuantity="1")], "lineItems[0].refundQuantity"),
        ([line(fulfillerId=7)], "lineItems[0].fulfillerId must be a string"),
    ],
)
def test_malformed_line_items(line_items: list[Any], message: str) -> None:
    with pytest.raises(MalformedEvent, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_webhook_claims(claims_for(with_line_items(*line_items)))


def test_error_messages_never_echo_values() -> None:
    envelope = seed_order_envelope()
    envelope["entityId"] = "janedoe@example.com"

    with pytest.raises(MalformedEvent) as raised:
        parse_webhook_claims(claims_for(envelope))

    assert "janedoe" not in str(raised.value)


@pytest.mark.parametrize(
    "claims",
    [
        {"data": "[1, 2]"},
        {"data": json.dumps({"eventType": 5})},
        {
            "data": json.dumps(
                {"eventType": "wix.ecom.v1.order_approved", "instanceId": INSTANCE_ID}
            )
        },
        {
            "data": json.dumps(
                {"eventType": "wix.ecom.v1.order_approved", "instanceId": INSTANCE_ID, "data": "7"}
            )
        },
        {"data": "1" * 5000},
    ],
    ids=[
        "not-an-object",
        "event-type-not-string",
        "no-inner-data",
        "inner-data-not-object",
        "huge-int",
    ],
)
def test_malformed_outer_layers(claims: dict[str, Any]) -> None:
    with pytest.raises(MalformedEvent):
        parse_webhook_claims(claims)


def test_what_decides_whose_and_how_much_is_projected() -> None:
    """The line's fulfiller app and refunded units, the order's payment status and pickup."""
    envelope = with_line_items(
        line("a", quantity=3, refundQuantity=1, fulfillerId=""),
        line("b", fulfillerId="0a1b2c3d-print-on-demand"),
        line("c", refundQuantity=None),
    )
    order_fields = envelope["actionEvent"]["body"]["order"]
    order_fields["paymentStatus"] = "NOT_PAID"
    order_fields["shippingInfo"] = {"logistics": {"pickupDetails": {"address": {}}}}

    order = parse_webhook_claims(claims_for(envelope))

    assert isinstance(order, ApprovedOrder)
    assert [(item.fulfiller_id, item.refunded_quantity) for item in order.line_items] == [
        (None, 1),
        ("0a1b2c3d-print-on-demand", 0),
        (None, 0),
    ]
    assert (order.payment_status, order.pickup) == ("NOT_PAID", True)


@pytest.mark.parametrize(
    "shipping_info",
    [None, {}, {"logistics": None}, {"logistics": {"deliveryTime": "soon"}}],
)
def test_an_order_without_pickup_details_is_shipped(shipping_info: Any) -> None:
    envelope = seed_order_envelope()
    envelope["actionEvent"]["body"]["order"]["shippingInfo"] = shipping_info

    order = parse_webhook_claims(claims_for(envelope))

    assert isinstance(order, ApprovedOrder)
    assert order.pickup is False
