"""The orders table in DynamoDB: the only module that reads or writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wix_fulfillment.core.order_event import ApprovedOrder
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# The webhook must answer Wix within 1.25 s: fail fast and let Wix's retry bring the order back.
_WEBHOOK_CLIENT_CONFIG: Final = Config(
    connect_timeout=0.5,
    read_timeout=1.0,
    retries={"mode": "standard", "total_max_attempts": 2},
)
_CONDITIONAL_CHECK_FAILED: Final = "ConditionalCheckFailedException"


class OrderStoreUnavailable(RuntimeError):
    """DynamoDB could not be reached or refused the write; the order is not stored."""


def order_key(instance_id: str, order_id: str) -> str:
    """One item per (site instance, order): the order, not the event, is what must be unique."""
    return f"ORDER#{instance_id}#{order_id}"


def dynamodb_client() -> DynamoDBClient:
    """A client for the table; honours ``AWS_ENDPOINT_URL_DYNAMODB`` (DynamoDB Local)."""
    return boto3.client("dynamodb", config=_WEBHOOK_CLIENT_CONFIG)


class OrdersTable:
    def __init__(self, client: DynamoDBClient, table_name: str, retention: timedelta) -> None:
        self._client = client
        self._table_name = table_name
        self._retention = retention

    def insert_if_new(self, order: ApprovedOrder) -> bool:
        """One conditional PutItem: the first delivery stores the order, later ones are no-ops."""
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=self._new_order_item(order, datetime.now(UTC)),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _CONDITIONAL_CHECK_FAILED:
                return False
            raise OrderStoreUnavailable(_describe(error)) from error
        except BotoCoreError as error:
            raise OrderStoreUnavailable(_describe(error)) from error
        return True

    def _new_order_item(
        self, order: ApprovedOrder, received_at: datetime
    ) -> dict[str, AttributeValueTypeDef]:
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
            "expiresAt": {"N": str(int((received_at + self._retention).timestamp()))},
        }
        if order.order_number is not None:
            item["orderNumber"] = {"S": order.order_number}
        if order.event_time is not None:
            item["eventTime"] = {"S": order.event_time}
        return item


def _describe(error: Exception) -> str:
    """The error's class and AWS code, never request contents."""
    if isinstance(error, ClientError):
        return f"{type(error).__name__}: {error.response.get('Error', {}).get('Code', 'unknown')}"
    return type(error).__name__
