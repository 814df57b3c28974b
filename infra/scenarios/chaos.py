"""``make chaos``: many orders through the local stack while everything misbehaves, then proof
that every shippable unit was fulfilled exactly once and no order was lost.

Webhooks come 1 to 4 times each, some at once, some out of order; Wix's fulfillment endpoints
answer 5xx, 429, time out, or create and then drop the connection; DynamoDB Local is frozen for a
few seconds while webhooks arrive (they get 503 and Wix resends them); the worker's process is
killed at random moments and while Wix holds the answer to a create it has carried out; some
orders were partly or wholly fulfilled by someone else before their webhook, and each record must
say whose fulfillments an order has (none misattributed); some are canceled or refunded in part
after approval; the webhooks of some never come, and sweeps run all along, beside the deliveries
and the worker, for the same orders (each order taken in once, the lost ones recovered); some are
approved unpaid and paid later (some payment webhooks never come: a sweep brings the payment),
before their approval's webhook, or never.

The run has two stacks: most orders go through one whose worker ships every approved order
(``FULFILL_WHEN=approved``, the default), the rest through one with ``FULFILL_WHEN=paid`` and no
carrier, where no unpaid order may ship and the never-paid ones must end ``AWAITING_PAYMENT``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Self

from infra.local_stack.dynamodb_stream import StreamReader
from infra.local_stack.functions import FunctionError, FunctionPool
from infra.local_stack.stack import LocalStack, StackSettings
from infra.wix_sandbox import SandboxClient
from infra.wix_sandbox.order_factory import line_item_id
from wix_fulfillment.adapters.site_registry import ORDER_PREFIX
from wix_fulfillment.core.order_status import OrderStatus

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
"""Per stack: half while Wix holds a create's answer, half at random moments of an invocation."""
KILL_INTERVAL_SECONDS: Final = (1.0, 4.0)
ORDERS_PER_GROUP: Final = 10
DYNAMODB_PAUSE_SECONDS: Final = 3.0
# Wix's resend schedule / 600: its first minute is 0.1 s, its first hour 6 s.
RESEND_COMPRESSION: Final = 600.0
FATES: Final = ("others", "changed", "lost", "late", "unpaid", "plain", "plain", "plain")
"""What happens to a group, in rounds of these in a random order, so that a small run has each:
someone else fulfilled the first line of its orders before their webhook (its groups physical);
canceled, or refunded in part, at Wix after approval and before the worker looks (webhooks held
until then); webhooks lost for good (only a sweep brings them in); approvals sent a step later
in the run (sweeps find them first, and the webhook and the worker race the sweep for the same
orders); approved unpaid (offline payment, cash on delivery: on the ``approved`` stack shipped at
once, and the payment later changes nothing); nothing more than the run's own chaos."""
LOST_PAYMENT_SHARE: Final = 0.3
"""Of the payments made after approval, those whose webhook never comes."""
PAID_POLICY_SHARE: Final = 0.2
"""Of the orders, those on the second stack (``FULFILL_WHEN=paid``); every other group of it is
approved unpaid, the rest have the fates above."""
SWEEP_PAUSE_SECONDS: Final = 0.5
"""Between one sweep's end and the next's start: sweeps overlap deliveries and the worker."""
FINAL_SWEEPS: Final = 10
"""At most, once the webhooks have settled: until one sweep reads every site and finds nothing."""
TERMINAL: Final = frozenset({"FULFILLED", "SKIPPED", "REJECTED", "CANCELED"})
WORKER_SETTINGS: Final = {
    "approved": {"FULFILL_WHEN": "approved", "SHIPMENT_PROVIDER": "http"},
    "paid": {"FULFILL_WHEN": "paid", "SHIPMENT_PROVIDER": "none"},
}
"""Each stack's worker, over ``env.json``. The second has no carrier either: its fulfillments
carry no tracking info, and after a kill our mark on them tells them ours (the first's are told
by the note before each create)."""
POLICIES: Final = tuple(WORKER_SETTINGS)


@dataclass
class ChaosReport:
    seed: int
    orders: int
    sites: int
    paid_policy_orders: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    unsettled: int = 0
    """Not in the status it must end in: a terminal one, or AWAITING_PAYMENT if never paid
    under ``paid``."""
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
    worker_kills: dict[str, int] = field(default_factory=dict)
    """Per stack."""
    kills_after_create: dict[str, int] = field(default_factory=dict)
    """Per stack, those while Wix held a create's answer."""
    webhooks_lost: int = 0
    """Orders none of whose webhooks was ever delivered."""
    lost_with_nothing_to_ship: int = 0
    """Of those, orders with no shippable line: Wix fulfills them itself at approval, so no sweep
    finds them (it reads unfulfilled orders), and there is nothing for us to do."""
    recovered_by_sweeps: int = 0
    """Of those, stored by a sweep's intake."""
    late_webhooks: int = 0
    """Orders whose approval was sent a step late, while sweeps ran."""
    taken_in_by_sweeps_first: int = 0
    """Orders whose webhooks were delivered, yet a sweep's intake stored them first."""
    intakes_twice: int = 0
    """Orders whose item the stream shows inserted more than once."""
    sweeps: int = 0
    """While orders arrived and the worker worked."""
    sweeps_failed: int = 0
    final_sweeps: int = 0
    """Once the webhooks had settled, until one found nothing."""
    unpaid_shipped_at_once: int = 0
    """Approved unpaid on the ``approved`` stack, and FULFILLED."""
    approved_unpaid: int = 0
    """On the ``paid`` stack."""
    paid_after_approval: int = 0
    paid_before_approval: int = 0
    payments_sent_twice: int = 0
    payment_webhooks_lost: int = 0
    """Paid after approval without the payment's webhook: only a sweep can take them up."""
    never_paid: int = 0
    unpaid_shipped: int = 0
    """Orders Wix says are not paid with one of our fulfillments, on the ``paid`` stack."""
    never_paid_to_ship: int = 0
    """Not paid at the end on the ``paid`` stack, with units to ship: must be AWAITING_PAYMENT."""
    left_awaiting_payment: int = 0
    """Of those, the ones in AWAITING_PAYMENT at the end."""
    stream_retries: int = 0
    dead_letters: int = 0
    wall_seconds: float = 0.0
    stack_seconds: dict[str, float] = field(default_factory=dict)
    """Each stack's part, its start and stop included."""

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.unsettled == 0
            and self.over_fulfilled_units == 0
            and self.unfulfilled_units == 0
            and self.rejected_over_fulfillments == 0
            and self.misattributed == 0
            and self.recovered_by_sweeps == self.webhooks_lost - self.lost_with_nothing_to_ship
            and self.intakes_twice == 0
            and self.unpaid_shipped == 0
            and self.left_awaiting_payment == self.never_paid_to_ship
            and sum(self.statuses.values()) + self.lost_with_nothing_to_ship == self.orders
        )

    def lines(self) -> list[str]:
        calls = "; ".join(
            f"{endpoint} " + " ".join(f"{status}x{n}" for status, n in sorted(codes.items()))
            for endpoint, codes in sorted(self.wix_calls.items())
        )
        faults = sum(sum(kinds.values()) for kinds in self.faults_injected.values())
        return [
            f"chaos seed {self.seed}: {self.orders} orders on {self.sites} sites"
            f" ({self.paid_policy_orders} of them on a FULFILL_WHEN=paid stack, no carrier) in"
            f" {self.wall_seconds:.1f} s ("
            + ", ".join(f"{policy} {sec:.1f} s" for policy, sec in self.stack_seconds.items())
            + f") -> {'PASSED' if self.passed else 'FAILED'}",
            "  statuses: " + ", ".join(f"{s} {n}" for s, n in sorted(self.statuses.items())),
            f"  lost {self.lost}, not in their due status {self.unsettled},"
            f" units fulfilled twice {self.over_fulfilled_units},"
            f" units left unfulfilled {self.unfulfilled_units},"
            f" over-fulfillments Wix refused {self.rejected_over_fulfillments}",
            f"  changed at Wix after approval: {self.canceled_after_approval} canceled,"
            f" {self.refunded_after_approval} refunded in part (no canceled or refunded unit may"
            " ship: counted as fulfilled twice)",
            f"  webhooks lost for good: {self.webhooks_lost} orders, recovered by sweeps"
            f" {self.recovered_by_sweeps} (and {self.lost_with_nothing_to_ship} with nothing to"
            " ship, fulfilled by Wix itself, rightly never taken in);"
            f" {self.sweeps} sweeps beside deliveries and the worker,"
            f" {self.final_sweeps} after them ({self.sweeps_failed} failed);"
            f" {self.taken_in_by_sweeps_first} orders taken in by a sweep before their webhook"
            f" ({self.late_webhooks} webhooks sent late);"
            f" orders taken in twice {self.intakes_twice}",
            f"  payments, FULFILL_WHEN=paid: {self.approved_unpaid} approved unpaid,"
            f" {self.paid_after_approval} paid after approval, {self.paid_before_approval} before"
            f" it ({self.payments_sent_twice} payment webhooks sent twice,"
            f" {self.payment_webhooks_lost} never sent), {self.never_paid} never"
            f" paid: unpaid orders shipped {self.unpaid_shipped}, left AWAITING_PAYMENT"
            f" {self.left_awaiting_payment} of the {self.never_paid_to_ship} with units to ship;"
            f" FULFILL_WHEN=approved: {self.unpaid_shipped_at_once} unpaid orders shipped at once",
            f"  misattributed orders {self.misattributed}"
            f" ({self.fulfilled_by_others} orders had someone else's fulfillment first);"
            " worker kills "
            + ", ".join(
                f"{policy} {n} ({self.kills_after_create[policy]} while Wix held a create's answer)"
                for policy, n in self.worker_kills.items()
            ),
            f"  webhooks: {self.webhook_deliveries} deliveries, {self.webhook_attempts} attempts"
            f" ({self.webhook_attempts - self.webhook_deliveries} resends)",
            f"  Wix calls: {calls}",
            f"  faults injected: {faults}; stream batch retries: {self.stream_retries};"
            f" dead letters: {self.dead_letters}",
        ]


@dataclass
class Placed:
    """What one stack's orders were made to go through, for the checks."""

    policy: str
    others: dict[str, set[str]] = field(default_factory=dict)
    """Order id to the ids of the fulfillments someone else made before its webhook."""
    lost: set[str] = field(default_factory=set)
    unpaid: set[str] = field(default_factory=set)
    payments_due: list[str] = field(default_factory=list)
    """Approved unpaid, their approval sent: paid at the next step of the run."""
    late: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    """Approved, their webhook held: sent at the next step of the run (as planned then)."""


class Placing:
    """Places one stack's orders in groups of one shape. Sweeps wait (``setup``) while an order
    is made that the worker must not see before it is noted or changed."""

    def __init__(
        self,
        wix: SandboxClient,
        sites: list[str],
        chooser: random.Random,
        placed: Placed,
        report: ChaosReport,
    ) -> None:
        self.wix = wix
        self.sites = sites
        self.chooser = chooser
        self.placed = placed
        self.report = report
        self.setup = threading.Lock()
        self._fates = _fates(chooser, placed.policy)

    def place(self, count: int) -> None:
        """Each webhook sent 1 to 4 times, shuffled; of some groups someone else shipped the
        first line before the webhook; some are canceled or refunded in part after approval;
        the webhooks of some are lost; some are approved unpaid."""
        chooser = self.chooser
        placed = 0
        while placed < count:
            group = min(ORDERS_PER_GROUP, count - placed)
            copies = chooser.randint(1, 2)
            concurrent = chooser.randint(0, 1)
            extra = chooser.randint(0, 4 - copies - concurrent)
            kind = chooser.choice(["physical", "physical", "mixed", "digital"])
            quantity = chooser.randint(1, 5)
            generate = {
                "kind": kind,
                "lineItems": chooser.randint(2 if kind == "mixed" else 1, 6),
                "quantity": quantity,
                "count": group,
            }
            delivery = {
                "copies": copies,
                "concurrentCopies": concurrent,
                "extraEvents": extra,
                "shuffle": True,
            }
            site = chooser.choice(self.sites)
            fate = next(self._fates)
            if fate == "others":
                generate["kind"] = "physical"
                self._fulfilled_by_others(site, generate, quantity, delivery)
            elif fate == "changed":
                self._changed_after_approval(site, generate, delivery)
            elif fate == "lost":
                created = self.wix.create_orders(site, generate=generate, lose_webhooks=True)
                self.placed.lost |= {order["id"] for order in created["orders"]}
            elif fate == "late":
                created = self.wix.create_orders(site, generate=generate, hold_webhook=True)
                self.placed.late.extend((order["id"], delivery) for order in created["orders"])
            elif fate == "unpaid":
                self._unpaid(site, generate, delivery)
            else:
                self.wix.create_orders(site, generate=generate, delivery=delivery)
            placed += group

    def catch_up(self) -> None:
        """The payments of orders approved unpaid earlier in the run, and the webhooks held."""
        due, self.placed.payments_due = self.placed.payments_due, []
        for order_id in due:
            if self.chooser.random() < LOST_PAYMENT_SHARE:
                self.wix.set_payment_status(order_id, "PAID", deliver_webhook=False)
                self.report.payment_webhooks_lost += self.placed.policy == "paid"
            else:
                self._pay(order_id)
            self.report.paid_after_approval += self.placed.policy == "paid"
        late, self.placed.late = self.placed.late, []
        for order_id, delivery in late:
            self.wix.send_webhooks(order_id, delivery=delivery)
        self.report.late_webhooks += len(late)

    def _fulfilled_by_others(
        self, site: str, generate: Mapping[str, Any], quantity: int, delivery: Mapping[str, Any]
    ) -> None:
        with self.setup:  # noted before any webhook or sweep: the worker cannot have shipped yet
            created = self.wix.create_orders(
                site,
                generate=generate,
                prefulfilled=[{"id": line_item_id(1), "quantity": quantity}],
                deliver_webhook=False,
            )
            for order in created["orders"]:
                fulfillments = self.wix.order(order["id"])["fulfillments"]
                self.placed.others[order["id"]] = {
                    fulfillment["id"] for fulfillment in fulfillments
                }
        for order in created["orders"]:
            self.wix.send_webhooks(order["id"], same_event=False, delivery=delivery)

    def _changed_after_approval(
        self, site: str, generate: Mapping[str, Any], delivery: Mapping[str, Any]
    ) -> None:
        with self.setup:
            created = self.wix.create_orders(site, generate=generate, deliver_webhook=False)
            for order in created["orders"]:
                if self.chooser.random() < 0.5:
                    self.wix.change_order(order["id"], status="CANCELED")
                    self.report.canceled_after_approval += 1
                else:
                    self.wix.change_order(order["id"], refunds={order["lineItems"][0]["id"]: 1})
                    self.report.refunded_after_approval += 1
        for order in created["orders"]:
            self.wix.send_webhooks(order["id"], same_event=False, delivery=delivery)

    def _unpaid(self, site: str, generate: Mapping[str, Any], delivery: Mapping[str, Any]) -> None:
        """A third never paid, a third paid before the approval's webhook is sent (which still
        says NOT_PAID), a third paid later in the run."""
        created = self.wix.create_orders(
            site, generate={**generate, "paymentStatus": "NOT_PAID"}, hold_webhook=True
        )
        paid_policy = self.placed.policy == "paid"
        order_ids = [order["id"] for order in created["orders"]]
        self.placed.unpaid |= set(order_ids)
        self.report.approved_unpaid += paid_policy * len(order_ids)
        for order_id in order_ids[1::3]:
            self._pay(order_id)
            self.report.paid_before_approval += paid_policy
        for order_id in order_ids:
            self.wix.send_webhooks(order_id, delivery=delivery)
        self.placed.payments_due.extend(order_ids[2::3])
        self.report.never_paid += paid_policy * len(order_ids[::3])

    def _pay(self, order_id: str) -> None:
        twice = self.chooser.random() < 0.5
        delivery = {"copies": 1, "concurrentCopies": 1} if twice else {"copies": 1}
        self.wix.set_payment_status(order_id, "PAID", delivery=delivery)
        self.report.payments_sent_twice += twice and self.placed.policy == "paid"


def _fates(chooser: random.Random, policy: str) -> Iterator[str]:
    while True:
        fates = list(FATES)
        chooser.shuffle(fates)
        for fate in fates:
            if policy == "paid":
                yield "unpaid"
            yield fate


class Beside(ABC):
    """A thread running beside the run, from the start of its ``with`` to the end."""

    def __init__(self, name: str) -> None:
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._thread.join()

    @abstractmethod
    def _run(self) -> None:
        """The thread's work, until ``_stopping`` is set."""


class WorkerKiller(Beside):
    """SIGKILLs the worker's invocations: while Wix holds the answer to a bulk create it has
    carried out (so the run dies between create and record), and at random moments."""

    def __init__(
        self, pools: list[FunctionPool], wix: SandboxClient, kills: int, seed: int
    ) -> None:
        super().__init__("worker-killer")
        self._pools = pools
        self._wix = wix
        self._after_create_quota = kills // 2
        self._random_quota = kills - kills // 2
        self._chooser = random.Random(f"{seed}:kills")  # noqa: S311 (not cryptography)
        self.after_create = 0
        self.at_random = 0

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


class Sweeper(Beside):
    """Runs the reconcile sweep again and again while orders arrive and the worker works, as its
    schedule would on a busy site, only far more often."""

    def __init__(self, stack: LocalStack, setup: threading.Lock) -> None:
        super().__init__("sweeper")
        self._stack = stack
        self._setup = setup
        self.sweeps = 0
        self.failed = 0

    def sweep(self) -> dict[str, Any] | None:
        """One sweep's answer; None when the function failed (the next sweep tries again)."""
        with self._setup:
            self.sweeps += 1
            try:
                answer: dict[str, Any] = self._stack.run_schedule()
            except FunctionError:
                self.failed += 1
                return None
        return answer

    def until_nothing_left(self, sites: int) -> int:
        """Sweeps until one reads every site and recovers nothing (Wix's faults stay on); how
        many it took."""
        for count in range(1, FINAL_SWEEPS + 1):
            answer = self.sweep()
            if (
                answer
                and answer["sitesSwept"] == sites
                and answer["ordersRecovered"] == 0
                and answer["paymentsApplied"] == 0
            ):
                return count
        return FINAL_SWEEPS

    def _run(self) -> None:
        while not self._stopping.wait(SWEEP_PAUSE_SECONDS):
            self.sweep()


def run_chaos(
    orders: int,
    site_count: int,
    seed: int,
    settings: StackSettings,
    worker_kills: int = WORKER_KILLS,
) -> ChaosReport:
    """Both stacks, one after the other, each in its own part of the work directory."""
    chooser = random.Random(seed)  # noqa: S311 (not cryptography)
    report = ChaosReport(seed, orders, site_count)
    report.paid_policy_orders = round(orders * PAID_POLICY_SHARE)
    started = time.monotonic()
    for policy, count in zip(
        POLICIES, (orders - report.paid_policy_orders, report.paid_policy_orders), strict=True
    ):
        if count:
            _run_stack(policy, count, site_count, seed, chooser, settings, worker_kills, report)
            report.stack_seconds[policy] = (
                time.monotonic() - started - sum(report.stack_seconds.values())
            )
    report.wall_seconds = time.monotonic() - started
    return report


def _run_stack(
    policy: str,
    orders: int,
    site_count: int,
    seed: int,
    chooser: random.Random,
    settings: StackSettings,
    worker_kills: int,
    report: ChaosReport,
) -> None:
    work_dir = settings.work_dir / policy
    work_dir.mkdir(parents=True, exist_ok=True)
    env_vars = json.loads(settings.env_vars_path.read_text(encoding="utf-8"))
    env_vars.setdefault("FulfillmentFunction", {}).update(WORKER_SETTINGS[policy])
    env_vars_path = work_dir / "env.json"
    env_vars_path.write_text(json.dumps(env_vars), encoding="utf-8")

    def count_retries(line: str) -> None:
        if line.startswith("stream") and "to retry" in line:
            report.stream_retries += 1
        settings.log(line)

    stack_settings = replace(
        settings,
        work_dir=work_dir,
        env_vars_path=env_vars_path,
        log=count_retries,
        resend_compression=RESEND_COMPRESSION,
    )
    with LocalStack(stack_settings) as stack:
        wix = stack.wix
        placed = Placed(policy)
        # Installed: App Instance Installed registers each site, its start date now.
        sites = [wix.install_site()["instanceId"] for _ in range(site_count)]
        wix.wait_for_deliveries(timeout=60)
        faults = {endpoint: FULFILLMENT_FAULTS for endpoint in FAULTY_ENDPOINTS}
        faults["bulkCreate"] = {**FULFILLMENT_FAULTS, **LATE_BULK_CREATES}
        wix.set_faults(faults, seed=seed)
        workers = [stack.functions[mapping.function_id] for mapping in stack.wiring.stream_mappings]
        placing = Placing(wix, sites, chooser, placed, report)
        sweeper = Sweeper(stack, placing.setup)
        with WorkerKiller(workers, wix, worker_kills, seed) as killer, sweeper:
            placing.place(orders // 3)
            stack.dynamodb.pause()
            try:
                placing.catch_up()  # Wix resends them until the database answers
                placing.place(orders // 3)
                time.sleep(DYNAMODB_PAUSE_SECONDS)
            finally:
                stack.dynamodb.resume()
            placing.catch_up()
            placing.place(orders - 2 * (orders // 3))
            wix.wait_for_deliveries(timeout=300)
            placing.catch_up()
            wix.wait_for_deliveries(timeout=300)
        report.sweeps += sweeper.sweeps
        report.final_sweeps += sweeper.until_nothing_left(site_count)
        report.sweeps_failed += sweeper.failed
        items = settled_items(stack, orders, timeout=600)
        report.worker_kills[policy] = killer.after_create + killer.at_random
        report.kills_after_create[policy] = killer.after_create
        report.fulfilled_by_others += len(placed.others)
        _check_orders(stack, items, placed, report)
        _check_intakes(stack, report)
        stats = wix.stats()
        report.webhook_deliveries += stats["webhooks"]["deliveries"]
        report.webhook_attempts += stats["webhooks"]["attempts"]
        _add_counts(report.wix_calls, stats["calls"])
        _add_counts(report.faults_injected, stats["faultsInjected"])
        report.rejected_over_fulfillments += stats["rejectedOverFulfillments"]
        report.dead_letters += sum(
            len(path.read_text().splitlines())
            for path in (stack.settings.work_dir / "dead-letters").glob("*.jsonl")
        )


def _table(stack: LocalStack) -> str:
    return stack.table_names["OrdersTable"]


def _add_counts(totals: dict[str, dict[str, int]], more: Mapping[str, Mapping[str, int]]) -> None:
    for name, counts in more.items():
        kinds = totals.setdefault(name, {})
        for kind, n in counts.items():
            kinds[kind] = kinds.get(kind, 0) + n


def settled_items(stack: LocalStack, expected: int, timeout: float) -> list[dict[str, Any]]:
    """Every stored order, once all are terminal or waiting for a payment that is not coming
    (the run waited for every webhook first), or when time is up."""
    client = stack.dynamodb.client()
    deadline = time.monotonic() + timeout
    while True:
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(
            TableName=_table(stack), ConsistentRead=True
        ):
            items.extend(item for item in page["Items"] if "orderId" in item)
        settled = len(items) >= expected and all(
            i["status"]["S"] in TERMINAL | {OrderStatus.AWAITING_PAYMENT} for i in items
        )
        if settled or time.monotonic() > deadline:
            return items
        time.sleep(1.0)


def _check_orders(
    stack: LocalStack,
    items: list[dict[str, Any]],
    placed: Placed,
    report: ChaosReport,
) -> None:
    """Every order Wix approved: stored (the lost ones by a sweep), in its due status, each unit
    it asks for (shippable, not canceled or refunded, paid under ``paid``) fulfilled once, and
    its record naming exactly the fulfillments we made."""
    stored = {item["orderId"]["S"]: item for item in items}
    paid_policy = placed.policy == "paid"
    for summary in stack.wix.orders():
        order_id = summary["orderId"]
        item = stored.get(order_id)
        if item is None:
            if order_id in placed.lost and _nothing_to_ship(stack.wix.order(order_id)):
                report.webhooks_lost += 1
                report.lost_with_nothing_to_ship += 1
            else:
                report.lost += 1
            continue
        status = item["status"]["S"]
        report.statuses[status] += 1
        due = TERMINAL
        # A cancel's tombstone has no intake event.
        swept = item.get("eventId", {}).get("S", "").startswith("sweep:")
        if order_id in placed.lost:
            report.webhooks_lost += 1
            report.recovered_by_sweeps += swept
        else:
            report.taken_in_by_sweeps_first += swept
        view = stack.wix.order(order_id)
        order = view["order"]
        ours = {f["id"] for f in view["fulfillments"]} - placed.others.get(order_id, set())
        recorded = {value["S"] for value in item.get("fulfillmentIds", {}).get("L", [])}
        if (status == "FULFILLED" and (not ours or recorded != ours)) or (
            status != "FULFILLED" and ours
        ):
            report.misattributed += 1
        fulfilled: Counter[str] = Counter()
        for fulfillment in view["fulfillments"]:
            for line in fulfillment["lineItems"]:
                fulfilled[line["id"]] += line["quantity"]
        wanted = {
            line["id"]: line["quantity"] - line.get("refundQuantity", 0)
            if line["physicalProperties"]["shippable"] and order["status"] != "CANCELED"
            else 0
            for line in order["lineItems"]
        }
        waits = paid_policy and order["paymentStatus"] == "NOT_PAID"
        if waits:
            report.unpaid_shipped += bool(ours)
            # Nothing to ship is SKIPPED at once; anything else waits for its payment.
            if any(units > fulfilled[line] for line, units in wanted.items()):
                report.never_paid_to_ship += 1
                due = frozenset({OrderStatus.AWAITING_PAYMENT})
                report.left_awaiting_payment += status == OrderStatus.AWAITING_PAYMENT
            wanted = dict.fromkeys(wanted, 0)
        elif order_id in placed.unpaid and not paid_policy:
            report.unpaid_shipped_at_once += status == "FULFILLED"
        report.unsettled += status not in due
        for line_id, units in wanted.items():
            report.over_fulfilled_units += max(fulfilled[line_id] - units, 0)
            report.unfulfilled_units += max(units - fulfilled[line_id], 0)


def _nothing_to_ship(view: Mapping[str, Any]) -> bool:
    order = view["order"]
    return not view["fulfillments"] and not any(
        line["physicalProperties"]["shippable"] for line in order["lineItems"]
    )


def _check_intakes(stack: LocalStack, report: ChaosReport) -> None:
    """The table's own account: each order's item inserted once, whoever (webhook or sweep)
    got there first; every other write to it is an update."""
    reader = StreamReader(stack.dynamodb.client(), stack.dynamodb.streams_client(), _table(stack))
    inserts = Counter(
        record["dynamodb"]["Keys"]["pk"]["S"]
        for record in reader.read()
        if record["eventName"] == "INSERT"
    )
    report.intakes_twice += sum(
        1 for key, n in inserts.items() if key.startswith(ORDER_PREFIX) and n > 1
    )


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
