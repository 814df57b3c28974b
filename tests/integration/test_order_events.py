"""Wix's cancel and payment events through WebhookFunction against DynamoDB Local: one
conditional write each, in any order and any number of times, never bringing a settled order
back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.support.lambda_functions import Handler
from tests.support.webhooks import (
    INSTANCE_ID,
    SEED_ORDER_ID,
    KeyPair,
    answer,
    order_items,
    seed_order_envelope,
    signed_webhook,
    webhook_event,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

APPROVED = "wix.ecom.v1.order_approved"
CANCELED = "wix.ecom.v1.order_canceled"
PAYMENT = "wix.ecom.v1.order_payment_status_updated"
KEY = {"pk": {"S": f"ORDER#{INSTANCE_ID}#{SEED_ORDER_ID}"}}


def deliver(
    handler: Handler, keys: KeyPair, event_type: str, payment_status: str | None = None
) -> str:
    envelope = seed_order_envelope()
    if payment_status is not None:
        envelope["actionEvent"]["body"]["order"]["paymentStatus"] = payment_status
    token = signed_webhook(keys, envelope, event_type=event_type)
    status, body = answer(handler(webhook_event(token), None))
    assert status == 200
    return str(body["status"])


def item(dynamodb: DynamoDBClient, table: str) -> dict[str, Any]:
    return dynamodb.get_item(TableName=table, Key=KEY, ConsistentRead=True).get("Item", {})


def set_status(dynamodb: DynamoDBClient, table: str, status: str) -> None:
    dynamodb.update_item(
        TableName=table,
        Key=KEY,
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )


def test_a_cancel_before_the_approval_leaves_a_tombstone_the_approval_cannot_revive(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    assert deliver(webhook_handler, webhook_keys, CANCELED) == "applied"
    assert deliver(webhook_handler, webhook_keys, APPROVED) == "duplicate"

    [stored] = order_items(dynamodb, orders_table)
    assert stored["status"] == {"S": "CANCELED"}
    assert "lineItems" not in stored
    assert {"instanceId", "orderId", "expiresAt", "statusReason"} <= stored.keys()


def test_a_pending_order_is_canceled_once(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    assert deliver(webhook_handler, webhook_keys, APPROVED) == "accepted"

    outcomes = [deliver(webhook_handler, webhook_keys, CANCELED) for _ in range(2)]

    assert outcomes == ["applied", "unchanged"]
    assert item(dynamodb, orders_table)["status"] == {"S": "CANCELED"}


@pytest.mark.parametrize("settled", ["FULFILLED", "SKIPPED", "REJECTED"])
def test_a_settled_order_is_left_alone_by_a_late_cancel_or_payment(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    settled: str,
) -> None:
    deliver(webhook_handler, webhook_keys, APPROVED)
    set_status(dynamodb, orders_table, settled)
    before = item(dynamodb, orders_table)

    assert deliver(webhook_handler, webhook_keys, CANCELED) == "unchanged"
    assert deliver(webhook_handler, webhook_keys, PAYMENT, "PAID") == "unchanged"
    assert item(dynamodb, orders_table) == before


def test_a_payment_before_the_approval_writes_nothing(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    assert deliver(webhook_handler, webhook_keys, PAYMENT, "PAID") == "unchanged"
    assert order_items(dynamodb, orders_table) == []
    assert deliver(webhook_handler, webhook_keys, APPROVED) == "accepted"


def test_a_payment_takes_a_waiting_order_back_to_pending_and_tells_one_in_flight(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    deliver(webhook_handler, webhook_keys, APPROVED)
    assert deliver(webhook_handler, webhook_keys, PAYMENT, "PAID") == "applied"
    in_flight = item(dynamodb, orders_table)
    assert in_flight["status"] == {"S": "PENDING"}
    assert "paymentNoticedAt" in in_flight

    set_status(dynamodb, orders_table, "AWAITING_PAYMENT")
    assert deliver(webhook_handler, webhook_keys, PAYMENT, "PAID") == "applied"

    assert item(dynamodb, orders_table)["status"] == {"S": "PENDING"}


def test_a_payment_status_that_is_not_paid_is_ignored(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    deliver(webhook_handler, webhook_keys, APPROVED)
    set_status(dynamodb, orders_table, "AWAITING_PAYMENT")

    assert deliver(webhook_handler, webhook_keys, PAYMENT, "DECLINED") == "ignored"
    assert item(dynamodb, orders_table)["status"] == {"S": "AWAITING_PAYMENT"}
