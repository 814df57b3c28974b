"""The worker's rounds with in-memory stand-ins for Wix, the shipment provider and the table."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy
from wix_fulfillment.core.fulfillment_run import Collaborators, Outcome, fulfill_orders
from wix_fulfillment.core.model import (
    ApprovedOrder,
    Concurrently,
    CreateOutcomeUnknown,
    CreateResult,
    ExistingFulfillment,
    FulfilledLine,
    FulfillmentRequest,
    LineItem,
    OrderNow,
    PendingOrder,
    RecordingFailed,
    TrackingInfo,
    TrackingUnavailable,
    WixUnavailable,
    in_turn,
)

POLICY = FulfillmentPolicy(frozenset({"PHYSICAL"}))
_T = TypeVar("_T")
_ids = itertools.count(1)


def order(order_id: str, *lines: tuple[str, int], site: str = "site-1") -> ApprovedOrder:
    return ApprovedOrder(
        instance_id=site,
        order_id=order_id,
        event_id=f"event-{order_id}",
        order_number=None,
        event_time=None,
        line_items=tuple(LineItem(i, q, shippable=True, item_type="PHYSICAL") for i, q in lines),
    )


@dataclass
class FakeWix:
    fulfillments: dict[str, list[ExistingFulfillment]] = field(default_factory=dict)
    lose_answers: int = 0
    refusals: dict[str, list[str]] = field(default_factory=dict)
    """Per order, the codes Wix answers its next creates with, one a call."""
    fulfilled_elsewhere: set[str] = field(default_factory=set)
    """Orders someone fulfills at Wix the moment our create for them is refused."""
    list_failures: int = 0
    known: dict[str, ApprovedOrder] = field(default_factory=dict)
    """The orders Wix has, as approved; ``changes`` says what became of them since."""
    changes: dict[str, dict[str, object]] = field(default_factory=dict)
    read_failures: int = 0
    read_calls: list[tuple[str, int]] = field(default_factory=list)
    list_calls: list[tuple[str, int]] = field(default_factory=list)
    create_calls: list[tuple[str, int]] = field(default_factory=list)

    def current_orders(self, instance_id: str, order_ids: Sequence[str]) -> Mapping[str, OrderNow]:
        self.read_calls.append((instance_id, len(order_ids)))
        if self.read_failures:
            self.read_failures -= 1
            raise WixUnavailable("HTTP 503")
        now: dict[str, OrderNow] = {}
        for order_id in order_ids:
            approved = self.known.get(order_id)
            if approved is None:
                continue
            fields: dict[str, object] = {
                "order_id": order_id,
                "status": "APPROVED",
                "payment_status": approved.payment_status,
                "pickup": approved.pickup,
                "line_items": approved.line_items,
            }
            fields.update(self.changes.get(order_id, {}))
            now[order_id] = OrderNow(**fields)  # type: ignore[arg-type]
        return now

    def existing_fulfillments(
        self, instance_id: str, order_ids: Sequence[str]
    ) -> Mapping[str, Sequence[ExistingFulfillment]]:
        self.list_calls.append((instance_id, len(order_ids)))
        if self.list_failures:
            self.list_failures -= 1
            raise WixUnavailable("HTTP 503")
        return {order_id: list(self.fulfillments.get(order_id, [])) for order_id in order_ids}

    def create_fulfillments(
        self, instance_id: str, requests: Sequence[FulfillmentRequest]
    ) -> Sequence[CreateResult]:
        self.create_calls.append((instance_id, len(requests)))
        results = []
        for request in requests:
            if self.refusals.get(request.order_id):
                code = self.refusals[request.order_id].pop(0)
                results.append(CreateResult(request.order_id, (), code, "no"))
                if request.order_id in self.fulfilled_elsewhere:
                    self.fulfillments.setdefault(request.order_id, []).append(
                        ExistingFulfillment("merchant", request.lines)
                    )
                continue
            created = self.fulfillments.setdefault(request.order_id, [])
            created.append(
                ExistingFulfillment(f"f{next(_ids)}", request.lines, ours=request.marked)
            )
            results.append(CreateResult(request.order_id, tuple(f.id for f in created)))
        if self.lose_answers:
            self.lose_answers -= 1
            raise CreateOutcomeUnknown("connection dropped")
        return results

    def units(self, order_id: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for fulfillment in self.fulfillments.get(order_id, []):
            for line in fulfillment.lines:
                totals[line.id] = totals.get(line.id, 0) + line.quantity
        return totals


@dataclass
class FakeShipments:
    failing: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=list)
    tracking: bool = True
    """False: fulfillments without tracking info (``SHIPMENT_PROVIDER=none``)."""

    def tracking_for(
        self, order: ApprovedOrder, lines: Sequence[FulfilledLine]
    ) -> TrackingInfo | None:
        self.labels.append(order.order_id)
        if order.order_id in self.failing:
            raise TrackingUnavailable("carrier down")
        return TrackingInfo(f"T-{order.order_id}", "fedex") if self.tracking else None


@dataclass
class FakeOutcomes:
    recorded: dict[str, tuple[str, object]] = field(default_factory=dict)
    failed_attempts: dict[str, str] = field(default_factory=dict)
    before_create: dict[str, list[str]] = field(default_factory=dict)
    """What each order's record says Wix had before our last create (as the table keeps it)."""
    settled_elsewhere: set[str] = field(default_factory=set)
    paid_meanwhile: set[str] = field(default_factory=set)
    """Orders Wix's payment event reaches between the worker's look and its record."""
    broken: bool = False

    def _record(self, order: ApprovedOrder, status: str, detail: object) -> None:
        if self.broken:
            raise RecordingFailed("table unavailable")
        self.recorded[order.order_id] = (status, detail)

    def record_fulfilled(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> None:
        self._record(order, "FULFILLED", list(fulfillment_ids))

    def record_skipped(
        self, order: ApprovedOrder, reason: str, fulfillment_ids: Sequence[str]
    ) -> None:
        self._record(order, "SKIPPED", reason)

    def record_rejected(self, order: ApprovedOrder, code: str, message: str) -> None:
        self._record(order, "REJECTED", code)

    def record_canceled(self, order: ApprovedOrder, reason: str) -> None:
        self._record(order, "CANCELED", reason)

    def record_awaiting_payment(self, order: ApprovedOrder, looked_at: float) -> bool:
        if order.order_id in self.paid_meanwhile:
            return False
        self._record(order, "AWAITING_PAYMENT", order.payment_status)
        return True

    def note_before_create(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> bool:
        if self.broken:
            raise RecordingFailed("table unavailable")
        if order.order_id in self.settled_elsewhere:
            return False
        self.before_create[order.order_id] = list(fulfillment_ids)
        return True

    def record_failed_attempt(
        self, order: ApprovedOrder, reason: str, *, forget_ids_before_create: bool
    ) -> None:
        self.failed_attempts[order.order_id] = reason
        if forget_ids_before_create:
            self.before_create.pop(order.order_id, None)


@dataclass
class FakeClock:
    """The invocation's time: sleeping spends it."""

    left: float = 300.0
    slept: list[float] = field(default_factory=list)

    def seconds_left(self) -> float:
        return self.left

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.left -= seconds


def run(
    orders: Sequence[ApprovedOrder | PendingOrder],
    wix: FakeWix,
    outcomes: FakeOutcomes | None = None,
    shipments: FakeShipments | None = None,
    clock: FakeClock | None = None,
    concurrently: Concurrently = in_turn,
    policy: FulfillmentPolicy = POLICY,
) -> dict[tuple[str, str], Outcome]:
    parts = Collaborators(
        wix, wix, shipments or FakeShipments(), outcomes or FakeOutcomes(), policy, concurrently
    )
    pending = [o if isinstance(o, PendingOrder) else PendingOrder(o) for o in orders]
    for each in pending:
        wix.known.setdefault(each.order.order_id, each.order)
    clock = clock or FakeClock()
    results = fulfill_orders(pending, parts, clock.seconds_left, clock.sleep)
    return {key: result.outcome for key, result in results.items()}


def test_orders_are_listed_once_per_site_and_created_in_chunks_of_100() -> None:
    orders = [order(f"o{i}", ("a", 1), site=f"site-{i % 2}") for i in range(250)]
    wix = FakeWix()

    results = run(orders, wix)

    assert set(results.values()) == {Outcome.FULFILLED}
    assert sorted(n for _, n in wix.list_calls) == [125, 125]
    assert sorted(n for _, n in wix.create_calls) == [25, 25, 100, 100]


def test_a_lost_create_answer_is_resolved_by_listing_not_by_creating_again() -> None:
    wix = FakeWix(lose_answers=1)
    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 2))], wix, outcomes)

    assert results == {("site-1", "o1"): Outcome.FULFILLED}
    assert wix.units("o1") == {"a": 2}
    assert len(wix.create_calls) == 1
    status, ids = outcomes.recorded["o1"]
    assert status == "FULFILLED"
    assert ids == [fulfillment.id for fulfillment in wix.fulfillments["o1"]]


def test_only_the_remainder_of_a_partly_fulfilled_order_is_created() -> None:
    wix = FakeWix(fulfillments={"o1": [ExistingFulfillment("old", (FulfilledLine("a", 1),))]})

    run([order("o1", ("a", 3), ("b", 1))], wix)

    [_, new] = wix.fulfillments["o1"]
    assert new.lines == (FulfilledLine("a", 2), FulfilledLine("b", 1))


def test_nothing_left_is_skipped_without_a_create() -> None:
    wix = FakeWix(fulfillments={"o1": [ExistingFulfillment("old", (FulfilledLine("a", 1),))]})
    digital = ApprovedOrder("site-1", "o2", "e", None, None, (LineItem("d", 1, False, "DIGITAL"),))
    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 1)), digital], wix, outcomes)

    assert set(results.values()) == {Outcome.SKIPPED}
    assert wix.create_calls == []
    assert outcomes.recorded == {
        "o1": ("SKIPPED", "already fulfilled at Wix"),
        "o2": ("SKIPPED", "no line item to fulfill"),
    }


def test_an_order_refused_twice_is_rejected_with_its_code_and_the_others_go_on() -> None:
    wix = FakeWix(refusals={"o1": ["ORDER_NOT_APPROVED", "ORDER_NOT_APPROVED"]})
    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 1)), order("o2", ("a", 1))], wix, outcomes)

    assert results[("site-1", "o1")] is Outcome.REJECTED
    assert results[("site-1", "o2")] is Outcome.FULFILLED
    assert outcomes.recorded["o1"] == ("REJECTED", "ORDER_NOT_APPROVED")
    assert [n for _, n in wix.create_calls] == [2, 1]


def test_a_passing_refusal_is_tried_again_after_a_fresh_listing() -> None:
    wix = FakeWix(refusals={"o1": ["INTERNAL_ERROR"]})

    assert run([order("o1", ("a", 1))], wix) == {("site-1", "o1"): Outcome.FULFILLED}
    assert wix.units("o1") == {"a": 1}


def test_a_refusal_because_someone_else_fulfilled_it_ends_skipped_not_rejected() -> None:
    wix = FakeWix(refusals={"o1": ["FULFILLMENT_QUANTITY_EXCEEDED"]}, fulfilled_elsewhere={"o1"})
    outcomes = FakeOutcomes()

    assert run([order("o1", ("a", 1))], wix, outcomes) == {("site-1", "o1"): Outcome.SKIPPED}
    assert outcomes.recorded["o1"] == ("SKIPPED", "already fulfilled at Wix")
    assert wix.units("o1") == {"a": 1}


def test_a_lost_create_noted_by_an_earlier_run_is_recognised_as_ours() -> None:
    earlier = ExistingFulfillment("merchant", (FulfilledLine("a", 1),))
    ours = ExistingFulfillment("ours", (FulfilledLine("a", 1),))
    wix = FakeWix(fulfillments={"o1": [earlier, ours]})
    outcomes = FakeOutcomes()
    noted = PendingOrder(order("o1", ("a", 2)), frozenset({"merchant"}))

    assert run([noted], wix, outcomes) == {("site-1", "o1"): Outcome.FULFILLED}
    assert outcomes.recorded["o1"] == ("FULFILLED", ["ours"])
    assert wix.create_calls == []


def test_a_run_that_ends_after_a_lost_create_notes_what_wix_had_before() -> None:
    class ListsOnlyOnce(FakeWix):
        def existing_fulfillments(
            self, instance_id: str, order_ids: Sequence[str]
        ) -> Mapping[str, Sequence[ExistingFulfillment]]:
            if self.list_calls:
                raise WixUnavailable("HTTP 503")
            return super().existing_fulfillments(instance_id, order_ids)

    merchant = ExistingFulfillment("merchant", (FulfilledLine("a", 1),))
    wix = ListsOnlyOnce(fulfillments={"o1": [merchant]}, lose_answers=1)
    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 3))], wix, outcomes)

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert outcomes.before_create["o1"] == ["merchant"]
    assert "HTTP 503" in outcomes.failed_attempts["o1"]


def test_an_unexpected_error_for_one_site_leaves_only_its_orders_for_retry() -> None:
    class BrokenForSite1(FakeWix):
        def existing_fulfillments(
            self, instance_id: str, order_ids: Sequence[str]
        ) -> Mapping[str, Sequence[ExistingFulfillment]]:
            if instance_id == "site-1":
                raise KeyError("orderId")
            return super().existing_fulfillments(instance_id, order_ids)

    outcomes = FakeOutcomes()
    results = run(
        [order("o1", ("a", 1)), order("o2", ("a", 1), site="site-2")], BrokenForSite1(), outcomes
    )

    assert results == {("site-1", "o1"): Outcome.RETRY, ("site-2", "o2"): Outcome.FULFILLED}
    assert "unexpected KeyError" in outcomes.failed_attempts["o1"]


def test_wix_down_for_good_leaves_orders_for_the_streams_retry() -> None:
    wix = FakeWix(list_failures=99)
    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 1))], wix, outcomes)

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert outcomes.recorded == {}
    assert "HTTP 503" in outcomes.failed_attempts["o1"]
    assert len(wix.list_calls) == 9


def test_a_passing_list_failure_is_retried_in_the_next_round() -> None:
    wix = FakeWix(list_failures=1)

    assert run([order("o1", ("a", 1))], wix) == {("site-1", "o1"): Outcome.FULFILLED}


def test_tracking_failure_holds_back_only_that_order() -> None:
    wix = FakeWix()

    results = run(
        [order("o1", ("a", 1)), order("o2", ("a", 1))], wix, shipments=FakeShipments({"o1"})
    )

    assert results == {("site-1", "o1"): Outcome.RETRY, ("site-1", "o2"): Outcome.FULFILLED}
    assert "o1" not in wix.fulfillments


def test_an_unrecorded_outcome_is_retried_later() -> None:
    results = run([order("o1", ("a", 1))], FakeWix(), FakeOutcomes(broken=True))

    assert results == {("site-1", "o1"): Outcome.RETRY}


def test_no_round_starts_without_time_for_it() -> None:
    wix = FakeWix()

    results = run([order("o1", ("a", 1))], wix, clock=FakeClock(left=1.0))

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert wix.list_calls == []


def test_every_create_is_preceded_by_a_note_of_what_wix_had() -> None:
    merchant = ExistingFulfillment("merchant", (FulfilledLine("a", 1),))
    outcomes = FakeOutcomes()
    notes_at_create: list[dict[str, list[str]]] = []

    class NotesFirst(FakeWix):
        def create_fulfillments(
            self, instance_id: str, requests: Sequence[FulfillmentRequest]
        ) -> Sequence[CreateResult]:
            notes_at_create.append(dict(outcomes.before_create))
            return super().create_fulfillments(instance_id, requests)

    wix = NotesFirst(fulfillments={"o1": [merchant]})

    assert run([order("o1", ("a", 2))], wix, outcomes) == {("site-1", "o1"): Outcome.FULFILLED}
    assert notes_at_create == [{"o1": ["merchant"]}]
    [_, ours] = wix.fulfillments["o1"]
    assert outcomes.recorded["o1"] == ("FULFILLED", [ours.id])


def test_a_fulfillment_beyond_the_note_is_ours_and_none_beyond_it_is_someone_elses() -> None:
    noted = ExistingFulfillment("before", (FulfilledLine("a", 1),))
    wix = FakeWix(fulfillments={"o1": [noted], "o2": [noted]})
    outcomes = FakeOutcomes()
    ours = PendingOrder(order("o1", ("a", 1)), frozenset())
    theirs = PendingOrder(order("o2", ("a", 1)), frozenset({"before"}))

    results = run([ours, theirs], wix, outcomes)

    assert results == {("site-1", "o1"): Outcome.FULFILLED, ("site-1", "o2"): Outcome.SKIPPED}
    assert outcomes.recorded == {
        "o1": ("FULFILLED", ["before"]),
        "o2": ("SKIPPED", "already fulfilled at Wix"),
    }


def test_without_tracking_info_a_create_needs_no_note_and_its_mark_tells_it_as_ours() -> None:
    merchant = ExistingFulfillment("merchant", (FulfilledLine("a", 1),))
    wix = FakeWix(fulfillments={"o1": [merchant]}, lose_answers=1)
    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 2))], wix, outcomes, FakeShipments(tracking=False))

    assert results == {("site-1", "o1"): Outcome.FULFILLED}
    assert outcomes.before_create == {}
    [_, ours] = wix.fulfillments["o1"]
    assert outcomes.recorded["o1"] == ("FULFILLED", [ours.id])
    assert wix.create_calls == [("site-1", 1)]


def test_after_a_crash_our_marked_fulfillment_is_ours_and_an_unmarked_one_someone_elses() -> None:
    """No note on either record: the run that created one of them died before writing any."""
    ours = ExistingFulfillment("ours", (FulfilledLine("a", 1),), ours=True)
    merchant = ExistingFulfillment("merchant", (FulfilledLine("a", 1),))
    wix = FakeWix(fulfillments={"o1": [ours], "o2": [merchant]})
    outcomes = FakeOutcomes()

    results = run(
        [order("o1", ("a", 1)), order("o2", ("a", 1))], wix, outcomes, FakeShipments(tracking=False)
    )

    assert results == {("site-1", "o1"): Outcome.FULFILLED, ("site-1", "o2"): Outcome.SKIPPED}
    assert outcomes.recorded == {
        "o1": ("FULFILLED", ["ours"]),
        "o2": ("SKIPPED", "already fulfilled at Wix"),
    }
    assert wix.create_calls == []


def test_a_create_certainly_not_carried_out_forgets_its_note() -> None:
    class CreatesFail(FakeWix):
        def create_fulfillments(
            self, instance_id: str, requests: Sequence[FulfillmentRequest]
        ) -> Sequence[CreateResult]:
            self.create_calls.append((instance_id, len(requests)))
            raise WixUnavailable("HTTP 429")

    outcomes = FakeOutcomes()

    results = run([order("o1", ("a", 1))], CreatesFail(), outcomes)

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert "o1" not in outcomes.before_create
    assert "HTTP 429" in outcomes.failed_attempts["o1"]


def test_an_order_another_run_settled_meanwhile_is_not_created() -> None:
    wix = FakeWix()
    outcomes = FakeOutcomes(settled_elsewhere={"o1"})

    results = run([order("o1", ("a", 1)), order("o2", ("a", 1))], wix, outcomes)

    assert results == {
        ("site-1", "o1"): Outcome.SETTLED_ELSEWHERE,
        ("site-1", "o2"): Outcome.FULFILLED,
    }
    assert "o1" not in wix.fulfillments
    assert "o1" not in outcomes.recorded


def test_a_minute_without_creates_is_waited_out_within_the_run() -> None:
    clock = FakeClock()

    class DownForAMinute(FakeWix):
        def create_fulfillments(
            self, instance_id: str, requests: Sequence[FulfillmentRequest]
        ) -> Sequence[CreateResult]:
            if clock.left > 300.0 - 60.0:
                self.create_calls.append((instance_id, len(requests)))
                raise WixUnavailable("HTTP 503")
            return super().create_fulfillments(instance_id, requests)

    wix = DownForAMinute()

    results = run([order("o1", ("a", 1)), order("o2", ("a", 1))], wix, clock=clock)

    assert set(results.values()) == {Outcome.FULFILLED}
    assert wix.units("o1") == wix.units("o2") == {"a": 1}
    assert clock.slept == [2.0, 4.0, 8.0, 16.0, 32.0]


def test_waits_between_rounds_end_before_the_deadline() -> None:
    clock = FakeClock(left=100.0)

    results = run([order("o1", ("a", 1))], FakeWix(list_failures=99), clock=clock)

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert clock.slept == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert clock.left >= 30.0


def test_sites_share_the_rounds_so_one_sites_outage_does_not_starve_another() -> None:
    class Site1Down(FakeWix):
        def existing_fulfillments(
            self, instance_id: str, order_ids: Sequence[str]
        ) -> Mapping[str, Sequence[ExistingFulfillment]]:
            if instance_id == "site-1":
                self.list_calls.append((instance_id, len(order_ids)))
                raise WixUnavailable("HTTP 503")
            return super().existing_fulfillments(instance_id, order_ids)

    clock = FakeClock()
    wix = Site1Down()

    results = run([order("o1", ("a", 1)), order("o2", ("a", 1), site="site-2")], wix, clock=clock)

    assert results == {("site-1", "o1"): Outcome.RETRY, ("site-2", "o2"): Outcome.FULFILLED}
    assert wix.list_calls[:2] == [("site-1", 1), ("site-2", 1)]


def test_a_refusal_caused_by_our_own_lost_create_ends_fulfilled_not_skipped() -> None:
    """Wix's listing does not show the create whose answer was lost yet; the second create
    meets 409 TRACKING_NUMBER_ALREADY_EXISTS (our carrier gave the same label); the next
    listing shows the first create's fulfillment: ours."""
    outcomes = FakeOutcomes()

    class ListingLags(FakeWix):
        landed: ExistingFulfillment | None = None

        def existing_fulfillments(
            self, instance_id: str, order_ids: Sequence[str]
        ) -> Mapping[str, Sequence[ExistingFulfillment]]:
            self.list_calls.append((instance_id, len(order_ids)))
            shown = [self.landed] if self.landed and len(self.list_calls) > 2 else []
            return {order_id: shown for order_id in order_ids}

        def create_fulfillments(
            self, instance_id: str, requests: Sequence[FulfillmentRequest]
        ) -> Sequence[CreateResult]:
            self.create_calls.append((instance_id, len(requests)))
            [request] = requests
            if self.landed is None:
                self.landed = ExistingFulfillment("ours", request.lines)
                raise CreateOutcomeUnknown("connection dropped")
            return [CreateResult(request.order_id, (), "TRACKING_NUMBER_ALREADY_EXISTS", "409")]

    results = run([order("o1", ("a", 1))], ListingLags(), outcomes)

    assert results == {("site-1", "o1"): Outcome.FULFILLED}
    assert outcomes.recorded["o1"] == ("FULFILLED", ["ours"])


def test_rounds_that_settle_orders_keep_the_shortest_wait() -> None:
    failures = {"o2": 1, "o3": 2}

    class CarrierSlowToRecover(FakeShipments):
        def tracking_for(
            self, order: ApprovedOrder, lines: Sequence[FulfilledLine]
        ) -> TrackingInfo | None:
            if failures.get(order.order_id, 0):
                failures[order.order_id] -= 1
                raise TrackingUnavailable("carrier busy")
            return super().tracking_for(order, lines)

    clock = FakeClock()
    orders = [order(f"o{i}", ("a", 1)) for i in (1, 2, 3)]

    results = run(orders, FakeWix(), shipments=CarrierSlowToRecover(), clock=clock)

    assert set(results.values()) == {Outcome.FULFILLED}
    assert clock.slept == [2.0, 2.0]


def last_first(work: Sequence[Callable[[], _T]]) -> list[_T]:
    """Runs the pieces in the reverse order, as threads may, and answers in the given order."""
    return list(reversed([piece() for piece in reversed(work)]))


def test_table_writes_run_in_any_order_and_each_answer_reaches_its_order() -> None:
    wix = FakeWix(refusals={"o2": ["INTERNAL_ERROR", "INTERNAL_ERROR"]})
    outcomes = FakeOutcomes(settled_elsewhere={"o3"})
    orders = [order(f"o{i}", ("a", 1)) for i in range(1, 5)]

    results = run(orders, wix, outcomes, concurrently=last_first)

    assert results == {
        ("site-1", "o1"): Outcome.FULFILLED,
        ("site-1", "o2"): Outcome.REJECTED,
        ("site-1", "o3"): Outcome.SETTLED_ELSEWHERE,
        ("site-1", "o4"): Outcome.FULFILLED,
    }
    assert {order_id: status for order_id, (status, _) in outcomes.recorded.items()} == {
        "o1": "FULFILLED",
        "o2": "REJECTED",
        "o4": "FULFILLED",
    }


def test_an_order_canceled_since_its_approval_gets_no_label_and_no_create() -> None:
    wix, outcomes, shipments = FakeWix(), FakeOutcomes(), FakeShipments()
    wix.changes["o1"] = {"status": "CANCELED"}

    results = run([order("o1", ("a", 1)), order("o2", ("a", 1))], wix, outcomes, shipments)

    assert results[("site-1", "o1")] == Outcome.CANCELED
    assert outcomes.recorded["o1"] == ("CANCELED", "canceled at Wix")
    assert shipments.labels == ["o2"]
    assert wix.units("o1") == {}
    assert wix.units("o2") == {"a": 1}


def test_the_plan_uses_refunds_made_since_the_approval() -> None:
    wix = FakeWix()
    wix.changes["o1"] = {
        "line_items": (LineItem("a", 3, shippable=True, item_type="PHYSICAL", refunded_quantity=1),)
    }

    run([order("o1", ("a", 3))], wix)

    assert wix.units("o1") == {"a": 2}


def test_a_failed_read_of_the_orders_is_a_retry_and_nothing_is_created() -> None:
    wix, outcomes, clock = FakeWix(read_failures=100), FakeOutcomes(), FakeClock(left=60.0)

    results = run([order("o1", ("a", 1))], wix, outcomes, clock=clock)

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert wix.create_calls == []
    assert "reading the orders failed" in outcomes.failed_attempts["o1"]


def test_an_order_wix_does_not_return_is_left_for_a_retry() -> None:
    wix, outcomes, clock = FakeWix(), FakeOutcomes(), FakeClock(left=60.0)
    pending = PendingOrder(order("o1", ("a", 1)))

    parts = Collaborators(wix, wix, FakeShipments(), outcomes, POLICY)
    results = fulfill_orders([pending], parts, clock.seconds_left, clock.sleep)

    assert results[("site-1", "o1")].outcome == Outcome.RETRY
    assert wix.create_calls == []


PAID_ONLY = FulfillmentPolicy(frozenset({"PHYSICAL"}), fulfill_when_paid=True)


def test_under_fulfill_when_paid_an_unpaid_order_waits_and_a_paid_one_ships() -> None:
    wix, outcomes, shipments = FakeWix(), FakeOutcomes(), FakeShipments()
    wix.changes["unpaid"] = {"payment_status": "NOT_PAID"}
    wix.changes["paid"] = {"payment_status": "PAID"}
    orders = [order("unpaid", ("a", 1)), order("paid", ("a", 1))]

    results = run(orders, wix, outcomes, shipments, policy=PAID_ONLY)

    assert results[("site-1", "unpaid")] == Outcome.AWAITING_PAYMENT
    assert outcomes.recorded["unpaid"] == ("AWAITING_PAYMENT", "NOT_PAID")
    assert results[("site-1", "paid")] == Outcome.FULFILLED
    assert shipments.labels == ["paid"]


def test_under_fulfill_when_approved_an_unpaid_order_ships_at_once() -> None:
    wix = FakeWix()
    wix.changes["o1"] = {"payment_status": "NOT_PAID"}

    assert run([order("o1", ("a", 1))], wix) == {("site-1", "o1"): Outcome.FULFILLED}


def test_a_payment_noticed_while_the_worker_looked_is_not_parked_but_retried() -> None:
    wix, outcomes = FakeWix(), FakeOutcomes(paid_meanwhile={"o1"})
    wix.changes["o1"] = {"payment_status": "NOT_PAID"}

    results = run([order("o1", ("a", 1))], wix, outcomes, policy=PAID_ONLY)

    assert results == {("site-1", "o1"): Outcome.RETRY}
    assert "o1" not in outcomes.recorded
    assert wix.create_calls == []
