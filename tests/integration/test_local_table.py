"""The tables used in tests are the template's OrdersTable, not a copy restated in test code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from infra.template import resource_properties

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration


def test_local_table_has_the_templates_keys_stream_and_ttl(
    template: dict[str, Any], dynamodb: DynamoDBClient, orders_table: str
) -> None:
    defined = resource_properties(template, "OrdersTable")

    table = dynamodb.describe_table(TableName=orders_table)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=orders_table)["TimeToLiveDescription"]

    assert table["KeySchema"] == defined["KeySchema"]
    assert table["AttributeDefinitions"] == defined["AttributeDefinitions"]
    assert table["BillingModeSummary"]["BillingMode"] == defined["BillingMode"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": defined["StreamSpecification"]["StreamViewType"],
    }
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == defined["TimeToLiveSpecification"]["AttributeName"]
