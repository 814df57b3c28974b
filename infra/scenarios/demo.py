"""``make demo``: the seed flow end to end on this machine, through the local stack.

The Wix sandbox approves the two orders of the source pages (the physical order of Wix's sample
flow, the digital order of the Order Approved page) and a handful of generated ones, and sends
their webhooks (the sample-flow order's three times over, some at once). One order's webhook is
lost for good: a sweep (ReconcileFunction, run once here as its schedule would) finds it at Wix
and takes it in. The stack verifies and stores each order once, the worker fulfills it at the
sandbox; then every order's fulfillments are printed as Wix's List Fulfillments returns them, and
a last line sums it all up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from infra.local_stack.stack import WORK_DIR, LocalStack, StackSettings
from infra.samples.dev_data import DEV_INSTANCE_ID, sample_flow_order, seed_envelope
from infra.wix_sandbox import SandboxClient
from infra.wix_sandbox.config import DEFAULT_APP_ID, DEFAULT_APP_SECRET
from infra.wix_sandbox.order_factory import line_item_id
from wix_fulfillment.adapters.order_item import order_key
from wix_fulfillment.adapters.wix_fulfillments import WixFulfillmentsClient
from wix_fulfillment.adapters.wix_tokens import WixCredentials

SETTLE_TIMEOUT_SECONDS: Final = 90.0
TERMINAL_STATUSES: Final = frozenset({"FULFILLED", "SKIPPED", "REJECTED", "CANCELED"})


@dataclass(frozen=True)
class PlacedOrder:
    instance_id: str
    order_id: str
    label: str
    line_items: tuple[tuple[str, int], ...]
    """(line item id, quantity ordered)"""


LOST_LABEL: Final = "webhook lost for good: recovered by a sweep"
DELIVERY_TIMEOUT_SECONDS: Final = 30.0


def place_demo_orders(wix: SandboxClient) -> list[PlacedOrder]:
    """The demo's orders, approved at the sandbox, which sends their webhooks right away (but
    one's: ``LOST_LABEL``)."""
    # The app installed on a second site: App Instance Installed registers it, from now on.
    other_site = wix.install_site()["instanceId"]
    wix.wait_for_deliveries(instance_id=other_site, timeout=DELIVERY_TIMEOUT_SECONDS)
    placed: list[PlacedOrder] = []

    def place(instance_id: str, label: str, **options: Any) -> None:
        for order in wix.create_orders(instance_id, **options)["orders"]:
            lines = tuple((line["id"], line["quantity"]) for line in order["lineItems"])
            placed.append(PlacedOrder(instance_id, order["id"], label, lines))

    place(
        DEV_INSTANCE_ID,
        "sample flow: physical, its webhook sent 3 times",
        order=sample_flow_order(),
        delivery={"copies": 1, "concurrentCopies": 2},
    )
    place(
        DEV_INSTANCE_ID,
        "Order Approved page: digital, fulfilled by Wix",
        order=seed_envelope()["actionEvent"]["body"]["order"],
    )
    place(other_site, "generated: mixed", generate={"kind": "mixed", "lineItems": 3})
    place(
        other_site,
        "generated: multi-quantity",
        generate={"kind": "physical", "lineItems": 2, "quantity": 4},
    )
    place(
        other_site,
        "generated: partly fulfilled already",
        generate={"kind": "physical", "lineItems": 2, "quantity": 2},
        prefulfilled=[{"id": line_item_id(1), "quantity": 1}],
    )
    # Changed at Wix after approval, before the worker looks: the approval webhook goes after.
    place(
        other_site, "canceled after approval", generate={"kind": "physical"}, deliver_webhook=False
    )
    wix.change_order(placed[-1].order_id, status="CANCELED")
    place(
        other_site,
        "1 of 3 units refunded after approval",
        generate={"kind": "physical", "quantity": 3},
        deliver_webhook=False,
    )
    wix.change_order(placed[-1].order_id, refunds={line_item_id(1): 1})
    for order in placed[-2:]:
        wix.send_webhooks(order.order_id, same_event=False)
    place(other_site, LOST_LABEL, generate={"kind": "physical"}, lose_webhooks=True)
    return placed


def sweep_once_delivered(stack: LocalStack) -> dict[str, Any]:
    """Once every webhook has been answered, one sweep, as ReconcileSchedule runs it: its
    answer (``ordersRecovered``, ``wixCalls``)."""
    stack.wix.wait_for_deliveries(timeout=DELIVERY_TIMEOUT_SECONDS)
    answer: dict[str, Any] = stack.run_schedule()
    return answer


def settle(stack: LocalStack, orders: list[PlacedOrder], timeout: float) -> dict[str, str]:
    """Each order's status in the table once all are terminal, or when time is up."""
    table = stack.table_names["OrdersTable"]
    client = stack.dynamodb.client()
    deadline = time.monotonic() + timeout
    statuses: dict[str, str] = {}
    while True:
        for order in orders:
            item = client.get_item(
                TableName=table,
                Key={"pk": {"S": order_key(order.instance_id, order.order_id)}},
                ConsistentRead=True,
            ).get("Item")
            statuses[order.order_id] = item["status"]["S"] if item else "NOT STORED"
        if all(s in TERMINAL_STATUSES for s in statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.5)


def over_fulfilled_units(order: PlacedOrder, listing: dict[str, Any]) -> int:
    """Units in the order's fulfillments beyond what was ordered: what a duplicate would add."""
    fulfilled: Counter[str] = Counter()
    for fulfillment in listing["orderWithFulfillments"]["fulfillments"]:
        for line in fulfillment["lineItems"]:
            fulfilled[line["id"]] += line["quantity"]
    return sum(max(fulfilled[item] - quantity, 0) for item, quantity in order.line_items)


def run_demo(stack: LocalStack) -> int:
    print(f"demo: the local stack is up; webhooks go to {stack.http_api.base_url}", flush=True)
    orders = place_demo_orders(stack.wix)
    print(f"demo: {len(orders)} orders approved at the Wix sandbox, one webhook lost for good")
    sweep = sweep_once_delivered(stack)
    print(
        f"demo: a sweep recovered {sweep['ordersRecovered']} order(s) no webhook brought"
        f" ({sweep['wixCalls']} Wix calls); waiting for the orders to settle"
    )
    statuses = settle(stack, orders, SETTLE_TIMEOUT_SECONDS)
    started = time.monotonic()
    wix = WixFulfillmentsClient(
        stack.wix.base_url,
        WixCredentials(DEFAULT_APP_ID, lambda: DEFAULT_APP_SECRET),
        lambda: 60.0 - (time.monotonic() - started),
    )
    duplicates = 0
    for order in orders:
        listing = wix.list_fulfillments(order.instance_id, order.order_id)
        duplicates += over_fulfilled_units(order, listing)
        print(f"\n== {order.label} ({statuses[order.order_id]})")
        print(json.dumps(listing, indent=2))
    counts = Counter(statuses.values())
    unsettled = sum(n for status, n in counts.items() if status not in TERMINAL_STATUSES)
    print(
        f"\ndemo: {len(orders)} orders approved, {counts['FULFILLED']} fulfilled"
        f" ({sweep['ordersRecovered']} recovered by a sweep),"
        f" {counts['SKIPPED']} skipped, {counts['CANCELED']} canceled,"
        f" {duplicates} duplicate fulfillments"
        + (f", {unsettled} NOT SETTLED" if unsettled else "")
        + (f", {counts['REJECTED']} rejected" if counts["REJECTED"] else "")
    )
    return 0 if unsettled == 0 and duplicates == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR, help="logs, dead letters")
    arguments = parser.parse_args()
    settings = StackSettings(
        work_dir=arguments.work_dir, log=lambda line: print(f"  {line}", flush=True)
    )
    with LocalStack(settings) as stack:
        code = run_demo(stack)
    sys.exit(code)


if __name__ == "__main__":
    main()
