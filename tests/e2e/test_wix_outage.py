"""A minute in which Wix carries out no create, then recovers: the worker's waits between rounds
ride it out inside one invocation, so every order is fulfilled once and nothing reaches the
dead-letter queue. Takes about 70 s of real time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.local_stack.stack import LocalStack, StackSettings
from infra.scenarios.demo import PlacedOrder, settle
from wix_fulfillment.adapters.order_item import order_key

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 60
# Wix carries out no create: each is refused with 503, or held and then cut off unanswered.
LOST_CREATES = {
    "errorRate": 0.6,
    "errorStatus": 503,
    "timeoutRate": 0.4,
    "timeoutSeconds": 1.0,
    "forSeconds": OUTAGE_SECONDS,
}
SITES = 4
ORDERS_PER_SITE = 2


def test_every_create_lost_for_a_minute_then_each_order_fulfilled_once_none_dead_lettered(
    tmp_path: Path,
) -> None:
    stream_lines: list[str] = []

    def log(line: str) -> None:
        if line.startswith("stream"):
            stream_lines.append(line)

    with LocalStack(StackSettings(work_dir=tmp_path, log=log)) as stack:
        wix = stack.wix
        sites = [wix.create_site() for _ in range(SITES)]
        outage_ends = datetime.now(UTC) + timedelta(seconds=OUTAGE_SECONDS)
        wix.set_faults({"bulkCreate": LOST_CREATES, "create": LOST_CREATES}, seed=16)
        orders: list[PlacedOrder] = []
        for site in sites:
            generate = {"lineItems": 2, "quantity": 3, "count": ORDERS_PER_SITE}
            for order in wix.create_orders(site, generate=generate)["orders"]:
                lines = tuple((line["id"], line["quantity"]) for line in order["lineItems"])
                orders.append(PlacedOrder(site, order["id"], "lost creates", lines))
        statuses = settle(stack, orders, timeout=OUTAGE_SECONDS + 120)
        fulfillments = {
            order.order_id: wix.order(order.order_id)["fulfillments"] for order in orders
        }
        records = {
            order.order_id: stack.dynamodb.client().get_item(
                TableName=stack.table_names["OrdersTable"],
                Key={"pk": {"S": order_key(order.instance_id, order.order_id)}},
                ConsistentRead=True,
            )["Item"]
            for order in orders
        }
        stats = wix.stats()

    assert set(statuses.values()) == {"FULFILLED"}, statuses
    created_after_the_outage = 0
    for order in orders:
        [fulfillment] = fulfillments[order.order_id]
        units: Counter[str] = Counter()
        for line in fulfillment["lineItems"]:
            units[line["id"]] += line["quantity"]
        assert units == dict(order.line_items)
        assert records[order.order_id]["fulfillmentIds"] == {"L": [{"S": fulfillment["id"]}]}
        created = datetime.fromisoformat(fulfillment["createdDate"].replace("Z", "+00:00"))
        created_after_the_outage += created >= outage_ends
    assert created_after_the_outage == len(orders), "no create landed during the outage"
    assert stats["rejectedOverFulfillments"] == 0
    assert not list((tmp_path / "dead-letters").glob("*.jsonl")), "nothing dead-lettered"
    assert stream_lines == [], "one invocation rode the outage out; the stream retried nothing"
