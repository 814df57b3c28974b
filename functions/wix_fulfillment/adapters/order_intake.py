"""Intake's side of the orders table: the stored item and the one conditional write, without boto3.

The webhook's cold start is inside Wix's 1.25 s: botocore's import and client creation were
most of it (tests/perf/bench_cold_start.py), so the webhook writes through
:class:`~wix_fulfillment.adapters.dynamodb_lite.DynamoDBLite` when the environment allows (it
always does in Lambda), and through boto3 (``orders_table.OrdersTable``, imported only then)
otherwise. The worker's side of the table stays in ``orders_table``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from wix_fulfillment.adapters.dynamodb_lite import DynamoDBError, DynamoDBLite
from wix_fulfillment.core.order_event import ApprovedOrder
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from wix_fulfillment.core.intake import OrderStore

# The webhook must answer Wix within 1.25 s: fail fast and let Wix's retry bring the order back.
WEBHOOK_CONNECT_TIMEOUT_SECONDS: Final = 0.5
WEBHOOK_READ_TIMEOUT_SECONDS: Final = 1.0
WEBHOOK_MAX_ATTEMPTS: Final = 2
CONDITIONAL_CHECK_FAILED: Final = "ConditionalCheckFailedException"
NEW_ORDER_CONDITION: Final = "attribute_not_exists(pk)"


class OrderStoreUnavailable(RuntimeError):
    """DynamoDB could not be reached or refused the write; the order is not stored."""


def order_key(instance_id: str, order_id: str) -> str:
    """One item per (site instance, order): the order, not the event, is what must be unique."""
    return f"ORDER#{instance_id}#{order_id}"


def new_order_item(
    order: ApprovedOrder, received_at: datetime, retention: timedelta
) -> dict[str, AttributeValueTypeDef]:
    """The item intake writes: the order's projection, PENDING, with its expiry (TTL)."""
    timestamp = received_at.isoformat(timespec="milliseconds")
    item: dict[str, AttributeValueTypeDef] = {
        "pk": {"S": order_key(order.instance_id, order.order_id)},
        "instanceId": {"S": order.instance_id},
        "orderId": {"S": order.order_id},
        "eventId": {"S": order.event_id},
        "lineItems": {
            "L": [
                {
                    "M": {
                        "id": {"S": line.id},
                        "quantity": {"N": str(line.quantity)},
                        "shippable": {"BOOL": line.shippable},
                        "itemType": {"S": line.item_type},
                    }
                }
                for line in order.line_items
            ]
        },
        "status": {"S": OrderStatus.PENDING},
        "attempts": {"N": "0"},
        "receivedAt": {"S": timestamp},
        "updatedAt": {"S": timestamp},
        "expiresAt": {"N": str(int((received_at + retention).timestamp()))},
    }
    if order.order_number is not None:
        item["orderNumber"] = {"S": order.order_number}
    if order.event_time is not None:
        item["eventTime"] = {"S": order.event_time}
    return item


class IntakeTable:
    """The conditional PutItem that stores a new order, through :class:`DynamoDBLite`."""

    def __init__(self, client: DynamoDBLite, table_name: str, retention: timedelta) -> None:
        self._client = client
        self._table_name = table_name
        self._retention = retention

    def insert_if_new(self, order: ApprovedOrder) -> bool:
        """The first delivery stores the order; later ones find it there and change nothing."""
        try:
            self._client.put_item(
                self._table_name,
                new_order_item(order, datetime.now(UTC), self._retention),
                NEW_ORDER_CONDITION,
            )
        except DynamoDBError as error:
            if error.code == CONDITIONAL_CHECK_FAILED:
                return False
            raise OrderStoreUnavailable(f"DynamoDBError: {error.code}") from error
        return True


def intake_table(
    table_name: str, retention: timedelta, environ: Mapping[str, str] = os.environ
) -> OrderStore:
    """The webhook's store: :class:`IntakeTable` when the environment gives credentials and
    region (Lambda's does), else boto3's ``OrdersTable`` with its whole credential chain."""
    client = DynamoDBLite.from_environment(
        connect_timeout=WEBHOOK_CONNECT_TIMEOUT_SECONDS,
        read_timeout=WEBHOOK_READ_TIMEOUT_SECONDS,
        max_attempts=WEBHOOK_MAX_ATTEMPTS,
        environ=environ,
    )
    if client is not None:
        return IntakeTable(client, table_name, retention)
    from wix_fulfillment.adapters.orders_table import (
        WEBHOOK_CLIENT_CONFIG,
        OrdersTable,
        dynamodb_client,
    )

    return OrdersTable(dynamodb_client(WEBHOOK_CLIENT_CONFIG), table_name, retention)
