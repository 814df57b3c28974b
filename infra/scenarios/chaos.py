"""``make chaos``: many orders through the local stack while everything misbehaves, then proof
that every shippable unit was fulfilled exactly once and no order was lost.

Webhooks come 1 to 4 times each, some at once, some out of order; Wix's fulfillment endpoints
answer 5xx, 429, time out, or create and then drop the connection; DynamoDB Local is frozen for a
few seconds while webhooks arrive (they get 503 and Wix resends them); the worker's process is
killed at random moments and while Wix holds the answer to a create it has carried out; some
orders were partly or wholly fulfilled by someone else before their webhook, and each record must
say whose fulfillments an order has (none misattributed).
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from infra.local_stack.functions import FunctionPool
from infra.local_stack.stack import LocalStack, StackSettings
from infra.wix_sandbox import SandboxClient
from infra.wix_sandbox.order_factory import line_item_id

FULFILLMENT_FAULTS: Final = {
    "errorRate": 0.10,
    "errorStatus": 503,
    "throttleRate": 0.05,
    "timeoutRate": 0.03,
    "timeoutSeconds": 2.0,
    "dropRate": 0.02,
}
FAULTY_ENDPOINTS: Final = ("token", "searchOrders", "listByIds", "bulkCreate", "create")
# Most bulk creates are carried out and answered a second late: the window a kill lands in.
LATE_BULK_CREATES: Final = {"lateRate": 0.75, "lateSeconds": 1.0}
WORKER_KILLS: Final = 6
"""Half while Wix holds a create's answer, half at random moments of an invocation."""
KILL_INTERVAL_SECONDS: Final = (1.0, 4.0)
OTHERS_FULFILL_SHARE: Final = 0.2
"""Of the physical groups, those whose orders someone else fulfilled in part or whole first."""
ORDERS_PER_GROUP: Final = 10
DYNAMODB_PAUSE_SECONDS: Final = 3.0
# Wix's resend schedule / 600: its first minute is 0.1 s, its first hour 6 s.
RESEND_COMPRESSION: Final = 600.0
CHANGED_AFTER_APPROVAL_SHARE: Final = 0.15
"""Groups of orders canceled, or refunded in part, at Wix after approval and before the worker
looks (their webhooks held until then)."""
TERMINAL: Final = frozenset({"FULFILLED", "SKIPPED", "REJECTED", "CANCELED"})


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
    canceled_after_approval: int = 0
    refunded_after_approval: int = 0
    misattributed: int = 0
    """FULFILLED without exactly our fulfillments, or not FULFILLED although we made one."""
    fulfilled_by_others: int = 0
    worker_kills: int = 0
    kills_while_a_create_answer_was_held: int = 0
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
            and self.misattributed == 0
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
            f"  changed at Wix after approval: {self.canceled_after_approval} canceled,"
            f" {self.refunded_after_approval} refunded in part (no canceled or refunded unit may"
            " ship: counted as fulfilled twice)",
            f"  misattributed orders {self.misattributed}"
            f" ({self.fulfilled_by_others} orders had someone else's fulfillment first);"
            f" worker kills {self.worker_kills}"
            f" ({self.kills_while_a_create_answer_was_held} while Wix held a create's answer)",
            f"  webhooks: {self.webhook_deliveries} deliveries, {self.webhook_attempts} attempts"
            f" ({self.webhook_attempts - self.webhook_deliveries} resends)",
            f"  Wix calls: {calls}",
            f"  faults injected: {faults}; stream batch retries: {self.stream_retries};"
            f" dead letters: {self.dead_letters}",
        ]


def place_orders(
    wix: SandboxClient,
    sites: list[str],
    count: int,
    chooser: random.Random,
    others: dict[str, set[str]],
    report: ChaosReport,
) -> int:
    """Orders in groups of one shape, each webhook sent 1 to 4 times, shuffled; of some groups
    someone else shipped the first line before the webhook (``others``: order id to those
    fulfillments' ids); some groups are canceled or refunded in part after approval."""
    placed = 0
    while placed < count:
        group = min(ORDERS_PER_GROUP, count - placed)
        copies = chooser.randint(1, 2)
        concurrent = chooser.randint(0, 1)
        extra = chooser.randint(0, 4 - copies - concurrent)
        kind = chooser.choice(["physical", "physical", "mixed", "digital"])
        quantity = chooser.randint(1, 5)
        prefulfilled = kind == "physical" and chooser.random() < OTHERS_FULFILL_SHARE
        changed = not prefulfilled and chooser.random() < CHANGED_AFTER_APPROVAL_SHARE
        held = prefulfilled or changed
        delivery = {
            "copies": copies,
            "concurrentCopies": concurrent,
            "extraEvents": extra,
            "shuffle": True,
        }
        created = wix.create_orders(
            chooser.choice(sites),
            generate={
                "kind": kind,
                "lineItems": chooser.randint(2 if kind == "mixed" else 1, 6),
                "quantity": quantity,
                "count": group,
            },
            prefulfilled=[{"id": line_item_id(1), "quantity": quantity}] if prefulfilled else None,
            delivery=None if held else delivery,
            deliver_webhook=not held,
        )
        if changed:
            for order in created["orders"]:
                if chooser.random() < 0.5:
                    wix.change_order(order["id"], status="CANCELED")
                    report.canceled_after_approval += 1
                else:
                    wix.change_order(order["id"], refunds={order["lineItems"][0]["id"]: 1})
                    report.refunded_after_approval += 1
            for order in created["orders"]:
                wix.send_webhooks(order["id"], same_event=False, delivery=delivery)
        if prefulfilled:
            # Noted before any webhook, so the worker cannot have fulfilled any of them yet.
            for order in created["orders"]:
                fulfillments = wix.order(order["id"])["fulfillments"]
                others[order["id"]] = {fulfillment["id"] for fulfillment in fulfillments}
            for order in created["orders"]:
                wix.send_webhooks(order["id"], same_event=False, delivery=delivery)
        placed += group
    return placed


class WorkerKiller:
    """SIGKILLs the worker's invocations: while Wix holds the answer to a bulk create it has
    carried out (so the run dies between create and record), and at random moments."""

    def __init__(
        self, pools: list[FunctionPool], wix: SandboxClient, kills: int, seed: int
    ) -> None:
        self._pools = pools
        self._wix = wix
        self._after_create_quota = kills // 2
        self._random_quota = kills - kills // 2
        self._chooser = random.Random(f"{seed}:kills")  # noqa: S311 (not cryptography)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-killer", daemon=True)
        self.after_create = 0
        self.at_random = 0

    def __enter__(self) -> WorkerKiller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        held_seen = 0
        next_random = time.monotonic() + self._chooser.uniform(*KILL_INTERVAL_SECONDS)
        while not self._stopping.wait(0.05):
            if self.after_create < self._after_create_quota:
                held = self._wix.stats()["faultsInjected"].get("bulkCreate", {}).get("late", 0)
                if held > held_seen:
                    held_seen = held
                    # The sandbox commits right after its decision; its answer comes in a second.
                    self._stopping.wait(0.2)
                    self.after_create += self._kill()
                    continue
            if self.at_random < self._random_quota and time.monotonic() >= next_random:
                killed = self._kill()
                self.at_random += killed
                if killed:
                    next_random = time.monotonic() + self._chooser.uniform(*KILL_INTERVAL_SECONDS)

    def _kill(self) -> int:
        return min(sum(pool.kill_busy() for pool in self._pools), 1)


def run_chaos(
    orders: int,
    site_count: int,
    seed: int,
    settings: StackSettings,
    worker_kills: int = WORKER_KILLS,
) -> ChaosReport:
    chooser = random.Random(seed)  # noqa: S311 (not cryptography)
    report = ChaosReport(seed, orders, site_count)
    others: dict[str, set[str]] = {}
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
        faults = {endpoint: FULFILLMENT_FAULTS for endpoint in FAULTY_ENDPOINTS}
        faults["bulkCreate"] = {**FULFILLMENT_FAULTS, **LATE_BULK_CREATES}
        wix.set_faults(faults, seed=seed)
        workers = [stack.functions[mapping.function_id] for mapping in stack.wiring.stream_mappings]
        with WorkerKiller(workers, stack.wix, worker_kills, seed) as killer:
            first_part = orders // 3
            place_orders(wix, sites, first_part, chooser, others, report)
            stack.dynamodb.pause()
            try:
                place_orders(wix, sites, orders // 3, chooser, others, report)
                time.sleep(DYNAMODB_PAUSE_SECONDS)
            finally:
                stack.dynamodb.resume()
            place_orders(wix, sites, orders - 2 * (orders // 3), chooser, others, report)
            wix.wait_for_deliveries(timeout=300)
            items = settled_items(stack, orders, timeout=600)
        report.worker_kills = killer.after_create + killer.at_random
        report.kills_while_a_create_answer_was_held = killer.after_create
        report.fulfilled_by_others = len(others)
        _check_orders(stack, items, others, report)
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


def _check_orders(
    stack: LocalStack,
    items: list[dict[str, Any]],
    others: dict[str, set[str]],
    report: ChaosReport,
) -> None:
    """Every order Wix approved: stored, settled, each shippable unit fulfilled once, and its
    record naming exactly the fulfillments we made."""
    stored = {item["orderId"]["S"]: item for item in items}
    for summary in stack.wix.orders():
        item = stored.get(summary["orderId"])
        if item is None:
            report.lost += 1
            continue
        status = item["status"]["S"]
        report.statuses[status] += 1
        view = stack.wix.order(summary["orderId"])
        ours = {f["id"] for f in view["fulfillments"]} - others.get(summary["orderId"], set())
        recorded = {value["S"] for value in item.get("fulfillmentIds", {}).get("L", [])}
        if (status == "FULFILLED" and (not ours or recorded != ours)) or (
            status != "FULFILLED" and ours
        ):
            report.misattributed += 1
        fulfilled: Counter[str] = Counter()
        for fulfillment in view["fulfillments"]:
            for line in fulfillment["lineItems"]:
                fulfilled[line["id"]] += line["quantity"]
        canceled = view["order"]["status"] == "CANCELED"
        for line in view["order"]["lineItems"]:
            shippable = line["physicalProperties"]["shippable"] and not canceled
            wanted = line["quantity"] - line.get("refundQuantity", 0) if shippable else 0
            report.over_fulfilled_units += max(fulfilled[line["id"]] - wanted, 0)
            report.unfulfilled_units += max(wanted - fulfilled[line["id"]], 0)


def _quiet(line: str) -> None:
    """The stack's per-webhook lines would drown the figures."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--worker-kills", type=int, default=WORKER_KILLS)
    arguments = parser.parse_args()
    reports = []
    for seed in arguments.seeds:
        report = run_chaos(
            arguments.orders,
            arguments.sites,
            seed,
            StackSettings(log=_quiet),
            worker_kills=arguments.worker_kills,
        )
        print("\n".join(report.lines()), flush=True)
        reports.append(report)
    sys.exit(0 if all(report.passed for report in reports) else 1)


if __name__ == "__main__":
    main()
