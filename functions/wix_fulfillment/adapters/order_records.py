"""The operator's view of an order: what the table holds of it, as plain JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from wix_fulfillment.adapters.boto3_dynamodb import describe
from wix_fulfillment.adapters.order_item import KEY, order_key, plain_item
from wix_fulfillment.core.model import OrderStoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class OrderRecords:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def record(self, instance_id: str, order_id: str) -> dict[str, Any] | None:
        try:
            item = self._client.get_item(
                TableName=self._table_name,
                Key={KEY: {"S": order_key(instance_id, order_id)}},
                ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise OrderStoreUnavailable(describe(error)) from error
        return None if item is None else plain_item(item)
