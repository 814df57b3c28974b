"""``make chaos``: many orders through the local stack while everything misbehaves, then proof
that every shippable unit was fulfilled exactly once and no order was lost.

Webhooks come 1 to 4 times each, some at once, some out of order; Wix's fulfillment endpoints
answer 5xx, 429, time out, or create and then drop the connection; DynamoDB Local is frozen for a
few seconds while webhooks arrive (they get 503 and Wix resends them).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from infra.local_stack.stack import LocalStack, StackSettings
from infra.wix_sandbox import SandboxClient

FULFILLMENT_FAULTS: Final = {
    "errorRate": 0.10,
    "errorStatus": 503,
    "throttleRate": 0.05,
    "timeoutRate": 0.03,
    "timeoutSeconds": 2.0,
    "dropRate": 0.02,
}
FAULTY_ENDPOINTS: Final = ("token", "listByIds", "bulkCreate", "create")
ORDERS_PER_GROUP: Final = 10
DYNAMODB_PAUSE_SECONDS: Final = 3.0
# Wix's resend schedule / 600: its first minute is 0.1 s, its first hour 6 s.
RESEND_COMPRESSION: Final = 600.0
TERMINAL: Final = frozenset({"FULFILLED", "SKIPPED", "REJECTED"})


@dataclass
class ChaosReport:
    seed: int
    orders: int
    sites: int
    statuses: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    over_fulfilled_units: int = 0
    unfulfilled_units: int = 0
    webhook_deliveries: int = 0
    webhook_attempts: int = 0
    wix_calls: dict[str, dict[str, int]] = field(default_factory=dict)
    faults_injected: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected_over_fulfillments: int = 0
    stream_retries: int = 0
    dead_letters: int = 0
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.over_fulfilled_units == 0
            and self.unfulfilled_units == 0
            and self.rejected_over_fulfillments == 0
            and sum(self.statuses[s] for s in TERMINAL) == self.orders
        )

    def lines(self) -> list[str]:
        calls = "; ".join(
            f"{endpoint} " + " ".join(f"{status}x{n}" for status, n in sorted(codes.items()))
            for endpoint, codes in sorted(self.wix_calls.items())
        )
        faults = sum(sum(kinds.values()) for kinds in self.faults_injected.values())
        return [
            f"chaos seed {self.seed}: {self.orders} orders on {self.sites} sites in"
            f" {self.wall_seconds:.1f} s -> {'PASSED' if self.passed else 'FAILED'}",
            "  statuses: " + ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items())),
            f"  lost {self.lost}, units fulfilled twice {self.over_fulfilled_units},"
            f" units left unfulfilled {self.unfulfilled_units},"
            f" over-fulfillments Wix refused {self.rejected_over_fulfillments}",
            f"  webhooks: {self.webhook_deliveries} deliveries, {self.webhook_attempts} attempts"
            f" ({self.webhook_attempts - self.webhook_deliveries} resends)",
            f"  Wix calls: {calls}",
            f"  faults injected: {faults}; stream batch retries: {self.stream_retries};"
            f" dead letters: {self.dead_letters}",
        ]


def place_orders(wix: SandboxClient, sites: list[str], count: int, chooser: random.Random) -> int:
    """Orders in groups of one shape, each webhook sent 1 to 4 times, shuffled."""
    placed = 0
    while placed < count:
        group = min(ORDERS_PER_GROUP, count - placed)
        copies = chooser.randint(1, 2)
        concurrent = chooser.randint(0, 1)
        extra = chooser.randint(0, 4 - copies - concurrent)
        kind = chooser.choice(["physical", "physical", "mixed", "digital"])
        wix.create_orders(
            chooser.choice(sites),
            generate={
                "kind": kind,
                "lineItems": chooser.randint(2 if kind == "mixed" else 1, 6),
                "quantity": chooser.randint(1, 5),
                "count": group,
            },
            delivery={
                "copies": copies,
                "concurrentCopies": concurrent,
                "extraEvents": extra,
                "shuffle": True,
            },
        )
        placed += group
    return placed


def run_chaos(orders: int, site_count: int, seed: int, settings: StackSettings) -> ChaosReport:
    chooser = random.Random(seed)  # noqa: S311 (not cryptography)
    report = ChaosReport(seed, orders, site_count)
    retries = Counter[str]()

    def count_retries(line: str) -> None:
        if line.startswith("stream") and "to retry" in line:
            retries["stream"] += 1
        settings.log(line)

    started = time.monotonic()
    stack_settings = StackSettings(
        **{**settings.__dict__, "log": count_retries, "resend_compression": RESEND_COMPRESSION}
    )
    with LocalStack(stack_settings) as stack:
        wix = stack.wix
        sites = [wix.create_site() for _ in range(site_count)]
        wix.set_faults({endpoint: FULFILLMENT_FAULTS for endpoint in FAULTY_ENDPOINTS}, seed=seed)
        first_part = orders // 3
        place_orders(wix, sites, first_part, chooser)
        stack.dynamodb.pause()
        try:
            place_orders(wix, sites, orders // 3, chooser)
            time.sleep(DYNAMODB_PAUSE_SECONDS)
        finally:
            stack.dynamodb.resume()
        place_orders(wix, sites, orders - 2 * (orders // 3), chooser)
        wix.wait_for_deliveries(timeout=300)
        items = settled_items(stack, orders, timeout=600)
        _check_orders(stack, items, report)
        stats = wix.stats()
        report.webhook_deliveries = stats["webhooks"]["deliveries"]
        report.webhook_attempts = stats["webhooks"]["attempts"]
        report.wix_calls = stats["calls"]
        report.faults_injected = stats["faultsInjected"]
        report.rejected_over_fulfillments = stats["rejectedOverFulfillments"]
        report.dead_letters = sum(
            len(path.read_text().splitlines())
            for path in (stack.settings.work_dir / "dead-letters").glob("*.jsonl")
        )
    report.stream_retries = retries["stream"]
    report.wall_seconds = time.monotonic() - started
    return report


def settled_items(stack: LocalStack, expected: int, timeout: float) -> list[dict[str, Any]]:
    """Every stored order, once all are terminal (or when time is up)."""
    client = stack.dynamodb.client()
    deadline = time.monotonic() + timeout
    while True:
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(
            TableName=stack.table_names["OrdersTable"], ConsistentRead=True
        ):
            items.extend(page["Items"])
        settled = len(items) >= expected and all(i["status"]["S"] in TERMINAL for i in items)
        if settled or time.monotonic() > deadline:
            return items
        time.sleep(1.0)


def _check_orders(stack: LocalStack, items: list[dict[str, Any]], report: ChaosReport) -> None:
    """Every order Wix approved: stored, settled, and each shippable unit fulfilled once."""
    stored = {item["orderId"]["S"]: item for item in items}
    for summary in stack.wix.orders():
        item = stored.get(summary["orderId"])
        if item is None:
            report.lost += 1
            continue
        report.statuses[item["status"]["S"]] += 1
        view = stack.wix.order(summary["orderId"])
        fulfilled: Counter[str] = Counter()
        for fulfillment in view["fulfillments"]:
            for line in fulfillment["lineItems"]:
                fulfilled[line["id"]] += line["quantity"]
        for line in view["order"]["lineItems"]:
            wanted = line["quantity"] if line["physicalProperties"]["shippable"] else 0
            report.over_fulfilled_units += max(fulfilled[line["id"]] - wanted, 0)
            report.unfulfilled_units += max(wanted - fulfilled[line["id"]], 0)


def _quiet(line: str) -> None:
    """The stack's per-webhook lines would drown the figures."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    arguments = parser.parse_args()
    reports = []
    for seed in arguments.seeds:
        report = run_chaos(arguments.orders, arguments.sites, seed, StackSettings(log=_quiet))
        print("\n".join(report.lines()), flush=True)
        reports.append(report)
    sys.exit(0 if all(report.passed for report in reports) else 1)


if __name__ == "__main__":
    main()
