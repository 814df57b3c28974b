"""Issue 13 through the local stack: orders whose webhooks are lost for good are recovered by a
sweep and fulfilled once; the delivered ones are not written twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.local_stack.stack import LocalStack, StackSettings
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import SiteWrites
from wix_fulfillment.adapters.order_item import order_key

pytestmark = pytest.mark.integration


def test_lost_webhooks_of_three_sites_are_recovered_by_one_sweep_and_fulfilled_once(
    tmp_path: Path,
) -> None:
    settings = StackSettings(work_dir=tmp_path, log=lambda _: None)
    with LocalStack(settings) as stack:
        dynamodb = stack.dynamodb.client()
        table = stack.table_names["OrdersTable"]
        # What the webhook does at a site's first event (the lead's lines in handlers/webhook.py).
        registry = SiteWrites(Boto3Transport(dynamodb), table)
        orders: dict[str, list[str]] = {}
        lost: set[str] = set()
        for _ in range(3):
            site = stack.wix.create_site()
            registry.register(site, datetime.now(UTC) - timedelta(seconds=5))
            delivered = stack.wix.create_orders(site, generate={"count": 70, "kind": "physical"})
            missing = stack.wix.create_orders(
                site, generate={"count": 30, "kind": "physical"}, lose_webhooks=True
            )
            orders[site] = [o["id"] for o in delivered["orders"] + missing["orders"]]
            lost |= {o["id"] for o in missing["orders"]}
        stack.wix.wait_for_deliveries(timeout=60)
        assert stack.wait_until_idle(timeout=120)
        before = {
            key: item["eventId"]["S"]
            for site, ids in orders.items()
            for key in [order_key(site, i) for i in ids]
            if (item := dynamodb.get_item(TableName=table, Key={"pk": {"S": key}}).get("Item"))
        }
        assert len(before) == 210

        answer = stack.run_schedule()
        assert stack.wait_until_idle(timeout=120)

        assert answer["ordersRecovered"] == 90
        assert answer["wixCalls"] <= 0.02 * 300
        for site, ids in orders.items():
            for order_id in ids:
                key = order_key(site, order_id)
                item = dynamodb.get_item(TableName=table, Key={"pk": {"S": key}})["Item"]
                assert item["status"]["S"] == "FULFILLED"
                if order_id in lost:
                    assert item["eventId"]["S"].startswith("sweep:")
                else:
                    assert item["eventId"]["S"] == before[key], "one intake each"
                assert len(stack.wix.order(order_id)["fulfillments"]) == 1
