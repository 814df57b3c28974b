"""Issue 13 through the local stack: orders whose webhooks are lost for good are recovered by a
sweep and fulfilled once; the delivered ones are not written twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest

from infra.local_stack.stack import LocalStack, StackSettings
from infra.scenarios.demo import PlacedOrder, settle
from tests.e2e.test_dead_letters_and_redrive import wait_for_dead_letters
from tests.support.templates import WORKER_TIMEOUT, edited_template
from tests.support.webhooks import site_items
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import SiteWrites
from wix_fulfillment.adapters.order_item import order_key, timestamp
from wix_fulfillment.core.removed_sites import APP_REMOVED_REASON

pytestmark = pytest.mark.integration

DEAD_LETTERS: Final = "FulfillmentDeadLetterQueue.jsonl"


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
        # The recovered orders' stream records may not have been read yet: wait for them.
        placed = [PlacedOrder(site, i, "", ()) for site, ids in orders.items() for i in ids]
        settle(stack, placed, 120)
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


def test_old_orders_are_never_taken_in_and_a_removed_site_is_never_swept_nor_called(
    tmp_path: Path,
) -> None:
    """Acceptance 2: a site first heard of through a webhook starts then (its older orders are
    left alone); a removed site's orders, dead-lettered before the removal, end SKIPPED with the
    reason once a sweep redrives them, and neither the sweep nor the worker calls Wix for it."""
    # Time for one round and no wait for another: each of the stream's attempts ends at once.
    copy = edited_template(tmp_path, {WORKER_TIMEOUT: WORKER_TIMEOUT.replace("300", "31")})
    settings = StackSettings(template_path=copy, work_dir=tmp_path, log=lambda _: None)
    with LocalStack(settings) as stack:
        dynamodb = stack.dynamodb.client()
        table = stack.table_names["OrdersTable"]

        def item(instance_id: str, order_id: str) -> dict[str, Any] | None:
            found: dict[str, Any] | None = dynamodb.get_item(
                TableName=table, Key={"pk": {"S": order_key(instance_id, order_id)}}
            ).get("Item")
            return found

        # A site with history, the app installed without a word to us: its first webhook is
        # a new order's, and only orders from then on are ours.
        old_site = stack.wix.create_site()
        old = stack.wix.create_orders(old_site, generate={"count": 5}, lose_webhooks=True)
        first = stack.wix.create_order(old_site, generate={"kind": "physical"})
        stack.wix.wait_for_deliveries(timeout=30)
        assert stack.wait_until_idle(timeout=60)
        later = stack.wix.create_orders(old_site, generate={"count": 2}, lose_webhooks=True)

        # A site installed (App Instance Installed), whose orders Wix keeps refusing until the
        # stream gives up on them; then the app is removed (App Instance Removed).
        removed = stack.wix.install_site()["instanceId"]
        stack.wix.wait_for_deliveries(timeout=30)
        stack.wix.set_faults({"bulkCreate": {"errorRate": 1.0, "instanceIds": [removed]}})
        stuck = stack.wix.create_orders(removed, generate={"count": 3, "kind": "physical"})
        stuck_ids = [order["id"] for order in stuck["orders"]]
        wait_for_dead_letters(tmp_path / "dead-letters" / DEAD_LETTERS, timeout=90)
        assert stack.wait_until_idle(timeout=60)
        stack.wix.remove_site(removed)
        stack.wix.wait_for_deliveries(timeout=30)
        # Their cool-off (REDRIVE_AFTER_MINUTES) passed.
        for order_id in stuck_ids:
            dynamodb.update_item(
                TableName=table,
                Key={"pk": {"S": order_key(removed, order_id)}},
                UpdateExpression="SET updatedAt = :old",
                ExpressionAttributeValues={
                    ":old": {"S": timestamp(datetime.now(UTC) - timedelta(hours=2))}
                },
            )
        calls_before = stack.wix.stats()["callsByInstance"].get(removed)

        answer = stack.run_schedule()
        # The redriven orders' stream records may not have been read yet: wait for them.
        settle(stack, [PlacedOrder(removed, order_id, "", ()) for order_id in stuck_ids], 60)
        assert stack.wait_until_idle(timeout=60)

        calls_after = stack.wix.stats()["callsByInstance"].get(removed)
        sites = site_items(dynamodb, table)
        stuck_items = [item(removed, order_id) for order_id in stuck_ids]
        old_items = [item(old_site, order["id"]) for order in old["orders"]]
        later_items = [item(old_site, order["id"]) for order in later["orders"]]
        first_item = item(old_site, first["id"])

    assert sites[removed]["status"] == {"S": "REMOVED"}
    assert sites[old_site]["status"] == {"S": "ACTIVE"}
    assert answer["sitesSwept"] == 1, "the removed site is not swept"
    assert answer["ordersRecovered"] == 2
    assert answer["ordersRedriven"] == 3
    assert calls_after == calls_before, "Wix is never called for the removed site"
    for stuck_item in stuck_items:
        assert stuck_item is not None
        assert stuck_item["status"] == {"S": "SKIPPED"}
        assert stuck_item["statusReason"] == {"S": APP_REMOVED_REASON}
    assert old_items == [None] * 5, "created before the site's start date: never taken in"
    assert first_item is not None
    assert first_item["status"] == {"S": "FULFILLED"}
    assert [found and found["status"]["S"] for found in later_items] == ["FULFILLED"] * 2
