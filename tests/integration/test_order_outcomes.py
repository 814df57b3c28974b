"""The worker's side of the orders table over either transport it is given: DynamoDBLite, as in
Lambda, or boto3 where the environment lacks Lambda's credentials."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from tests.support.webhooks import claims_for, seed_order_envelope
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.dynamodb_lite import DynamoDBLite
from wix_fulfillment.adapters.intake_store import DynamoDBTransport, IntakeStore
from wix_fulfillment.adapters.order_item import order_key
from wix_fulfillment.adapters.order_outcomes import OrderOutcomesTable, outcomes_transport
from wix_fulfillment.core.model import ApprovedOrder
from wix_fulfillment.core.order_event import parse_webhook_claims

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

TRANSPORTS: dict[str, Callable[[DynamoDBClient], DynamoDBTransport]] = {
    "dynamodb-lite": lambda _: outcomes_transport(),
    "boto3": Boto3Transport,
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.usefixtures("aws_local_env")
def test_pending_orders_and_outcomes_over_either_transport(
    transport: str, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    seed = parse_webhook_claims(claims_for(seed_order_envelope()))
    assert isinstance(seed, ApprovedOrder)
    # More than one BatchGetItem's 100 keys.
    orders = [replace(seed, order_id=f"{seed.order_id[:-4]}{n:04d}") for n in range(101)]
    intake = IntakeStore(Boto3Transport(dynamodb), orders_table, timedelta(days=1))
    for order in orders:
        assert intake.insert_if_new(order)
    outcomes = OrderOutcomesTable(TRANSPORTS[transport](dynamodb), orders_table)
    assert isinstance(outcomes.transport, DynamoDBLite) == (transport == "dynamodb-lite")
    noted, settled, *rest = orders

    assert outcomes.note_before_create(noted, ["merchant-1"])
    outcomes.record_fulfilled(settled, ["f-1"])
    pending = outcomes.pending_orders(orders)

    assert set(pending) == {(o.instance_id, o.order_id) for o in [noted, *rest]}
    before = pending[(noted.instance_id, noted.order_id)].fulfillment_ids_before_create
    assert before == frozenset({"merchant-1"})
    assert all(
        pending[(o.instance_id, o.order_id)].fulfillment_ids_before_create is None for o in rest
    )
    # Settled: no note, and so no create, for it any more.
    assert not outcomes.note_before_create(settled, [])
    key = order_key(settled.instance_id, settled.order_id)
    item = dynamodb.get_item(TableName=orders_table, Key={"pk": {"S": key}}, ConsistentRead=True)
    assert item["Item"]["status"] == {"S": "FULFILLED"}
