"""DynamoDB through boto3: the status function's and the sweep's client, and the transport of the
webhook's and the worker's writes for environments whose credentials DynamoDBLite cannot read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wix_fulfillment.adapters.dynamodb_lite import DynamoDBError
from wix_fulfillment.adapters.order_item import CONDITIONAL_CHECK_FAILED

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

CLIENT_CONFIG: Final = Config(
    connect_timeout=2.0,
    read_timeout=5.0,
    retries={"mode": "standard", "total_max_attempts": 5},
)
"""The status function and the sweep have seconds to minutes; a retry is cheaper than a failure."""


def dynamodb_client(config: Config = CLIENT_CONFIG) -> DynamoDBClient:
    """A client for the table; honours ``AWS_ENDPOINT_URL_DYNAMODB`` (DynamoDB Local)."""
    return boto3.client("dynamodb", config=config)


def conditional_check_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == CONDITIONAL_CHECK_FAILED


def describe(error: Exception) -> str:
    """The error's class and AWS code, never request contents."""
    if isinstance(error, ClientError):
        return f"{type(error).__name__}: {error.response.get('Error', {}).get('Code', 'unknown')}"
    return type(error).__name__


OPERATIONS: Final = {
    "PutItem": "put_item",
    "UpdateItem": "update_item",
    "BatchGetItem": "batch_get_item",
}
"""The operations the transports' users send, by their boto3 method."""


class Boto3Transport:
    """DynamoDB calls through boto3, failing as :class:`DynamoDBLite` does, so that each store
    has one code path over either transport."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client

    def put_item(self, table_name: str, item: Mapping[str, Any], condition_expression: str) -> None:
        self.call(
            "PutItem",
            {
                "TableName": table_name,
                "Item": dict(item),
                "ConditionExpression": condition_expression,
            },
        )

    def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """One of ``OPERATIONS``, as DynamoDBLite's ``call`` takes it."""
        try:
            answer: Any = getattr(self._client, OPERATIONS[operation])(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "unknown")
            raise DynamoDBError(code, retryable=False) from error
        except BotoCoreError as error:
            raise DynamoDBError(type(error).__name__, retryable=True) from error
        return dict(answer)
