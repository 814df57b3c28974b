"""Send a still-PENDING order through the stream again: the stream filter matches the arrival of
this marker, never the worker's own writes (each outcome removes it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from wix_fulfillment.adapters.boto3_dynamodb import conditional_check_failed
from wix_fulfillment.adapters.order_item import KEY, REDRIVE_MARKER, STATUS, timestamp
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def mark_for_redrive(client: DynamoDBClient, table_name: str, key: str) -> bool:
    """False when the order is settled or unknown. A marker left by a redrive whose run died
    first is removed, then set again (two writes), since only its arrival matches."""
    if _set_marker(client, table_name, key):
        return True
    try:
        client.update_item(
            TableName=table_name,
            Key={KEY: {"S": key}},
            UpdateExpression=f"REMOVE {REDRIVE_MARKER}",
            ConditionExpression=f"#status = :pending AND attribute_exists({REDRIVE_MARKER})",
            ExpressionAttributeNames={"#status": STATUS},
            ExpressionAttributeValues={":pending": {"S": OrderStatus.PENDING}},
        )
    except ClientError as error:
        if conditional_check_failed(error):
            return False
        raise
    return _set_marker(client, table_name, key)


def _set_marker(client: DynamoDBClient, table_name: str, key: str) -> bool:
    try:
        client.update_item(
            TableName=table_name,
            Key={KEY: {"S": key}},
            UpdateExpression=f"SET {REDRIVE_MARKER} = :now, updatedAt = :now",
            ConditionExpression=f"#status = :pending AND attribute_not_exists({REDRIVE_MARKER})",
            ExpressionAttributeNames={"#status": STATUS},
            ExpressionAttributeValues={
                ":pending": {"S": OrderStatus.PENDING},
                ":now": {"S": timestamp(datetime.now(UTC))},
            },
        )
    except ClientError as error:
        if conditional_check_failed(error):
            return False
        raise
    return True
