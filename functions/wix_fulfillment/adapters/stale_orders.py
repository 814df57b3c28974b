"""The sweep's redrive of an order left PENDING long after its last attempt (its batch was
dead-lettered): counted first, then sent through the stream by the operator's own redrive
marker, so no order waits for an operator and none is redriven without end. Its ``lastError``
is left as it is."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from wix_fulfillment.adapters.boto3_dynamodb import conditional_check_failed
from wix_fulfillment.adapters.order_item import KEY, STATUS, timestamp
from wix_fulfillment.adapters.redrive_marker import mark_for_redrive
from wix_fulfillment.adapters.site_registry import AUTO_REDRIVES
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def auto_redrive(
    client: DynamoDBClient,
    table_name: str,
    key: str,
    *,
    stale_before: datetime,
    max_redrives: int,
    now: datetime,
) -> bool:
    """False when the order moved on since the scan, or has had its redrives. The count is
    written before the marker (it matches no stream filter), so a crash between them costs a
    redrive, never adds one."""
    try:
        client.update_item(
            TableName=table_name,
            Key={KEY: {"S": key}},
            UpdateExpression=(
                f"SET {AUTO_REDRIVES} = if_not_exists({AUTO_REDRIVES}, :zero) + :one, "
                "autoRedrivenAt = :now"
            ),
            ConditionExpression=(
                f"#status = :pending AND updatedAt < :cutoff AND "
                f"(attribute_not_exists({AUTO_REDRIVES}) OR {AUTO_REDRIVES} < :max)"
            ),
            ExpressionAttributeNames={"#status": STATUS},
            ExpressionAttributeValues={
                ":pending": {"S": OrderStatus.PENDING},
                ":cutoff": {"S": timestamp(stale_before)},
                ":max": {"N": str(max_redrives)},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":now": {"S": timestamp(now)},
            },
        )
    except ClientError as error:
        if conditional_check_failed(error):
            return False
        raise
    return mark_for_redrive(client, table_name, key)
