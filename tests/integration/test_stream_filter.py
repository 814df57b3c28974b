"""The template's stream filter, applied to real stream records from DynamoDB Local."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.dynamodb_stream import StreamReader
from infra.local_stack.event_filter import matches_any
from infra.template import resource_properties
from tests.support.webhooks import claims_for, seed_order_envelope
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import IntakeStore
from wix_fulfillment.adapters.order_item import order_key
from wix_fulfillment.adapters.order_outcomes import OrderOutcomesTable
from wix_fulfillment.adapters.redrive_marker import mark_for_redrive
from wix_fulfillment.core.model import ApprovedOrder, OrderPaid
from wix_fulfillment.core.order_event import parse_webhook_claims

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration


def stream_filters(template: dict[str, Any]) -> list[str]:
    events = resource_properties(template, "FulfillmentFunction")["Events"]
    [stream] = [event for event in events.values() if event["Type"] == "DynamoDB"]
    return [entry["Pattern"] for entry in stream["Properties"]["FilterCriteria"]["Filters"]]


@pytest.fixture
def stored_order(dynamodb: DynamoDBClient, orders_table: str) -> ApprovedOrder:
    order = parse_webhook_claims(claims_for(seed_order_envelope()))
    assert isinstance(order, ApprovedOrder)
    intake = IntakeStore(Boto3Transport(dynamodb), orders_table, timedelta(days=1))
    assert intake.insert_if_new(order)
    return order


@pytest.fixture
def stream(
    dynamodb_local: DynamoDBLocal, dynamodb: DynamoDBClient, orders_table: str
) -> StreamReader:
    return StreamReader(dynamodb, dynamodb_local.streams_client(), orders_table)


def test_new_orders_and_redrives_match_and_the_workers_own_writes_never_do(
    template: dict[str, Any],
    dynamodb: DynamoDBClient,
    orders_table: str,
    stored_order: ApprovedOrder,
    stream: StreamReader,
) -> None:
    filters = stream_filters(template)
    outcomes = OrderOutcomesTable(Boto3Transport(dynamodb), orders_table)

    [insert] = stream.read()
    outcomes.record_failed_attempt(stored_order, "HTTP 503", forget_ids_before_create=False)
    [failed_attempt] = stream.read()
    key = order_key(stored_order.instance_id, stored_order.order_id)
    assert mark_for_redrive(dynamodb, orders_table, key)
    [redrive] = stream.read()
    assert outcomes.note_before_create(stored_order, ["merchant-1"])
    [noted] = stream.read()
    outcomes.record_failed_attempt(stored_order, "HTTP 503 again", forget_ids_before_create=False)
    [failed_after_redrive] = stream.read()
    outcomes.record_fulfilled(stored_order, ["f-1"])
    [fulfilled] = stream.read()
    dynamodb.delete_item(
        TableName=orders_table,
        Key={"pk": {"S": order_key(stored_order.instance_id, stored_order.order_id)}},
    )
    [removed] = stream.read()

    assert [record["eventName"] for record in (insert, redrive, fulfilled, removed)] == [
        "INSERT",
        "MODIFY",
        "MODIFY",
        "REMOVE",
    ]
    assert matches_any(filters, insert)
    assert matches_any(filters, redrive)
    for own_write in (failed_attempt, noted, failed_after_redrive, fulfilled, removed):
        assert not matches_any(filters, own_write), json.dumps(own_write["dynamodb"])
    assert fulfilled["dynamodb"]["NewImage"]["status"] == {"S": "FULFILLED"}
    assert "redriveRequestedAt" not in failed_after_redrive["dynamodb"]["NewImage"]
    assert "fulfillmentIdsBeforeCreate" not in fulfilled["dynamodb"]["NewImage"]


def test_settled_orders_ignore_later_outcomes(
    dynamodb: DynamoDBClient, orders_table: str, stored_order: ApprovedOrder
) -> None:
    outcomes = OrderOutcomesTable(Boto3Transport(dynamodb), orders_table)

    outcomes.record_fulfilled(stored_order, ["f-1"])
    outcomes.record_rejected(stored_order, "ORDER_CANCELED", "too late")
    outcomes.record_failed_attempt(stored_order, "late retry", forget_ids_before_create=False)
    noted = outcomes.note_before_create(stored_order, ["f-1"])

    assert noted is False, "a settled order must not be created again"
    item = dynamodb.get_item(
        TableName=orders_table,
        Key={"pk": {"S": order_key(stored_order.instance_id, stored_order.order_id)}},
    )["Item"]
    assert item["status"] == {"S": "FULFILLED"}
    assert item["fulfillmentIds"] == {"L": [{"S": "f-1"}]}
    assert item["attempts"] == {"N": "1"}
    assert "errorCode" not in item
    assert "fulfillmentIdsBeforeCreate" not in item


def test_a_payment_sends_a_waiting_order_on_and_one_in_flight_is_not_sent_twice(
    template: dict[str, Any],
    dynamodb: DynamoDBClient,
    orders_table: str,
    stored_order: ApprovedOrder,
    stream: StreamReader,
) -> None:
    filters = stream_filters(template)
    outcomes = OrderOutcomesTable(Boto3Transport(dynamodb), orders_table)
    intake = IntakeStore(Boto3Transport(dynamodb), orders_table, timedelta(days=1))
    paid = OrderPaid(stored_order.instance_id, stored_order.order_id, "event-2", "PAID")
    stream.read()

    assert outcomes.record_awaiting_payment(stored_order, time.time())
    [parked] = stream.read()
    assert intake.note_payment(paid)
    [taken_up] = stream.read()
    assert intake.note_payment(paid)
    [paid_again] = stream.read()
    outcomes.record_fulfilled(stored_order, ["f-1"])
    [fulfilled] = stream.read()

    assert parked["dynamodb"]["NewImage"]["status"] == {"S": "AWAITING_PAYMENT"}
    assert matches_any(filters, taken_up)
    for not_for_the_worker in (parked, paid_again, fulfilled):
        assert not matches_any(filters, not_for_the_worker)


def test_a_worker_that_looked_before_a_payment_does_not_park_the_order(
    dynamodb: DynamoDBClient, orders_table: str, stored_order: ApprovedOrder
) -> None:
    outcomes = OrderOutcomesTable(Boto3Transport(dynamodb), orders_table)
    intake = IntakeStore(Boto3Transport(dynamodb), orders_table, timedelta(days=1))
    looked_at = time.time()
    time.sleep(0.01)
    assert intake.note_payment(
        OrderPaid(stored_order.instance_id, stored_order.order_id, "event-2", "PAID")
    )

    assert not outcomes.record_awaiting_payment(stored_order, looked_at)
    assert outcomes.record_awaiting_payment(stored_order, time.time() + 0.01)
