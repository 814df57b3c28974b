"""One worker run: fulfill the pending orders at Wix, site by site, and record each outcome.

These rules keep every unit fulfilled exactly once, and each record true, although Wix's create
has no idempotency key:
- after a lost answer or a crash the next look tells our fulfillments from someone else's: one
  without tracking info carries our mark; before a create with tracking info (which leaves no room
  for the mark) the order's record notes the fulfillments Wix has for it, ours are beyond those;
- a create whose outcome is unknown is never sent again blindly: the next round lists the order's
  fulfillments and plans from what Wix has;
- an order Wix refuses is refused twice, with a fresh listing in between, before it is REJECTED
  (a refusal may be a passing error, or a race with someone else's fulfillment);
- the plan is made from the order as Wix has it now (canceled, refunded, paid since approval?),
  read in bulk before labels and creates; a read that fails is a retry, never a guess.
Rounds are spaced by a growing wait, within the invocation's deadline, so that a Wix or network
problem of a few minutes is ridden out rather than spent on the stream's retries.
"""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Final, TypeVar

from wix_fulfillment.core.fulfillment_plan import (
    FulfillmentPolicy,
    nothing_to_fulfill,
    remaining_lines,
)
from wix_fulfillment.core.model import (
    MAX_ORDERS_PER_CALL,
    ApprovedOrder,
    Concurrently,
    CreateOutcomeUnknown,
    CreateResult,
    ExistingFulfillment,
    FulfillmentRequest,
    OrderOutcomes,
    PendingOrder,
    RecordingFailed,
    ShipmentProvider,
    TrackingUnavailable,
    WixFulfillments,
    WixOrders,
    WixUnavailable,
    in_turn,
)

WAITS_BETWEEN_ROUNDS: Final = (2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0)
"""Seconds before a round after 1, 2, ... rounds in a row that settled nothing: about four minutes
of waiting in all, inside the worker's five-minute timeout."""
MIN_SECONDS_FOR_A_ROUND: Final = 30.0
"""A round is a listing, a carrier call per order and a create, each up to ~12 s when slow."""
MIN_SECONDS_FOR_A_LABEL: Final = 15.0
OWN_LABEL_ALREADY_USED: Final = "TRACKING_NUMBER_ALREADY_EXISTS"
"""Wix's one documented create error: our carrier gives an order the same label again, so after
a lost answer it means our own earlier create landed; the note before it stays."""
APPROVED: Final = "APPROVED"
CANCELED_AT_WIX: Final = frozenset({"CANCELED", "REJECTED"})
"""Wix order statuses after which nothing may ship: canceled, or rejected (payment failed)."""


class Outcome(StrEnum):
    FULFILLED = "fulfilled"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    CANCELED = "canceled"
    AWAITING_PAYMENT = "awaiting payment"
    """``FULFILL_WHEN=paid`` and not paid yet: Wix's payment event brings it back."""
    SETTLED_ELSEWHERE = "settled elsewhere"
    """Another run settled the order while this one worked on it: nothing to do or record."""
    RETRY = "retry"
    """Not settled in this run: the stream delivers the order again (and at last to the DLQ)."""


@dataclass(frozen=True, slots=True)
class OrderResult:
    outcome: Outcome
    detail: str = ""
    """Why, for the log: the skip reason, Wix's error code, or the last transient error."""


@dataclass(frozen=True, slots=True)
class Collaborators:
    wix: WixFulfillments
    orders: WixOrders
    shipments: ShipmentProvider
    outcomes: OrderOutcomes
    policy: FulfillmentPolicy
    concurrently: Concurrently = in_turn
    """How the orders' table writes of one step run: one write an order, independent of each
    other, so they need not wait for each other."""


def fulfill_orders(
    orders: Iterable[PendingOrder],
    parts: Collaborators,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[tuple[str, str], OrderResult]:
    """Rounds over every site with orders left; the result is keyed by (instance id, order id)."""
    runs = _site_runs(orders, parts)
    # Rounds in a row that settled nothing wait longer and longer; a round that settles some
    # orders brings the shortest wait back, so passing errors cost seconds, not minutes.
    stalled, first = 0, True
    while stalled <= len(WAITS_BETWEEN_ROUNDS):
        active = [run for run in runs if run.pending]
        if not active:
            break
        if not first:
            wait = WAITS_BETWEEN_ROUNDS[max(stalled - 1, 0)]
            if seconds_left() - wait < MIN_SECONDS_FOR_A_ROUND:
                break
            sleep(wait)
        if seconds_left() < MIN_SECONDS_FOR_A_ROUND:
            break
        first = False
        settled_before = _settled(runs)
        for run in active:
            try:
                run.round(seconds_left)
            except Exception as error:  # one site's surprise must not cost the other sites'
                run.fail_pending(f"unexpected {type(error).__name__}: {error}"[:300])
        stalled = 0 if _settled(runs) > settled_before else stalled + 1
    return _results(runs)


def leave_for_retry(
    orders: Iterable[PendingOrder], parts: Collaborators, reason: str
) -> dict[tuple[str, str], OrderResult]:
    """Nothing can be tried in this run: each order keeps the reason, for the stream's retry."""
    runs = _site_runs(orders, parts)
    for run in runs:
        run.fail_pending(reason)
    return _results(runs)


def _site_runs(orders: Iterable[PendingOrder], parts: Collaborators) -> list[_SiteRun]:
    by_site: dict[str, dict[str, PendingOrder]] = defaultdict(dict)
    for pending in orders:
        by_site[pending.order.instance_id][pending.order.order_id] = pending
    return [
        _SiteRun(instance_id, site_orders, parts) for instance_id, site_orders in by_site.items()
    ]


def _results(runs: Iterable[_SiteRun]) -> dict[tuple[str, str], OrderResult]:
    """Every order's result, keyed by (instance id, order id); what is unsettled left for retry."""
    results: dict[tuple[str, str], OrderResult] = {}
    for run in runs:
        run.fail_pending()
        for order_id, result in run.results.items():
            results[(run.instance_id, order_id)] = result
    return results


def _settled(runs: Iterable[_SiteRun]) -> int:
    return sum(len(run.results) for run in runs)


_R = TypeVar("_R")


def _failure_or(work: Callable[[], _R]) -> _R | RecordingFailed:
    try:
        return work()
    except RecordingFailed as error:
        return error


@dataclass
class _OrderState:
    order: ApprovedOrder
    ids_before_create: frozenset[str] | None
    """What the order's record says Wix had before our last create, if one may have landed."""
    last_error: str = "ran out of time"
    refusals: int = 0
    existing_ids: frozenset[str] = field(default_factory=frozenset)
    create_not_landed: bool = False
    """The last create was certainly not carried out: the note before it no longer holds."""


class _SiteRun:
    """One site's orders: each round lists them, plans, notes, creates."""

    def __init__(
        self, instance_id: str, orders: Mapping[str, PendingOrder], parts: Collaborators
    ) -> None:
        self.instance_id = instance_id
        self._parts = parts
        self.pending = {
            order_id: _OrderState(pending.order, pending.fulfillment_ids_before_create)
            for order_id, pending in orders.items()
        }
        self.results: dict[str, OrderResult] = {}
        self._settled: list[tuple[str, OrderResult, Callable[[], bool | None]]] = []
        """Decided, not yet recorded: recorded together at the end of each step."""

    def round(self, seconds_left: Callable[[], float]) -> None:
        try:
            requests = self._plan_round(seconds_left)
            self._record_settled()
            for start in range(0, len(requests), MAX_ORDERS_PER_CALL):
                self._create(self._noted(requests[start : start + MAX_ORDERS_PER_CALL]))
                self._record_settled()
        finally:
            self._record_settled()

    def fail_pending(self, reason: str | None = None) -> None:
        """Leave what is not settled to the stream's retry, noting why."""
        states = list(self.pending.values())
        for state in states:
            if reason is not None:
                state.last_error = reason
            self.results[state.order.order_id] = OrderResult(Outcome.RETRY, state.last_error)
        # The stream's retry comes either way; the attempt record is for the operator.
        outcomes = self._parts.outcomes
        self._parts.concurrently(
            [
                functools.partial(
                    _failure_or,
                    functools.partial(
                        outcomes.record_failed_attempt,
                        state.order,
                        state.last_error,
                        forget_ids_before_create=state.create_not_landed,
                    ),
                )
                for state in states
            ]
        )
        self.pending.clear()

    def _plan_round(self, seconds_left: Callable[[], float]) -> list[FulfillmentRequest]:
        order_ids = list(self.pending)
        looked_at = time.time()
        try:
            now = self._parts.orders.current_orders(self.instance_id, order_ids)
        except WixUnavailable as error:
            self._note_error(self.pending.values(), f"reading the orders failed: {error}")
            return []
        try:
            existing = self._parts.wix.existing_fulfillments(self.instance_id, order_ids)
        except WixUnavailable as error:
            self._note_error(self.pending.values(), f"listing fulfillments failed: {error}")
            return []
        requests = []
        policy = self._parts.policy
        for state in list(self.pending.values()):
            have = existing.get(state.order.order_id, ())
            state.existing_ids = frozenset(fulfillment.id for fulfillment in have)
            current = now.get(state.order.order_id)
            if current is None:
                state.last_error = "Wix did not return the order when asked for it"
                continue
            state.order = replace(
                state.order,
                line_items=current.line_items,
                payment_status=current.payment_status,
                pickup=current.pickup,
            )
            ours = self._ours(state, have)
            if ours:
                # Our own create landed although its answer was lost (or the run died).
                self._settle_fulfilled(state, ours)
                continue
            if current.status in CANCELED_AT_WIX:
                self._settle_canceled(state, f"{current.status.lower()} at Wix")
                continue
            if current.status != APPROVED:
                state.last_error = f"the order is {current.status} at Wix"
                continue
            lines = remaining_lines(policy.lines_of(state.order), have, policy)
            if not lines:
                self._settle_skipped(state, have)
                continue
            if policy.waits_for_payment(current.payment_status):
                self._settle_awaiting_payment(state, looked_at)
                continue
            if seconds_left() < MIN_SECONDS_FOR_A_LABEL:
                state.last_error = "ran out of time before its tracking info"
                continue
            try:
                tracking = self._parts.shipments.tracking_for(state.order, lines)
            except TrackingUnavailable as error:
                state.last_error = f"tracking info unavailable: {error}"
                continue
            requests.append(FulfillmentRequest(state.order.order_id, lines, tracking))
        return requests

    @staticmethod
    def _ours(state: _OrderState, have: Sequence[ExistingFulfillment]) -> list[str]:
        """Fulfillments with our mark, or beyond those noted before our last create: ours."""
        before = state.ids_before_create
        return [
            fulfillment.id
            for fulfillment in have
            if fulfillment.ours or (before is not None and fulfillment.id not in before)
        ]

    def _settle_fulfilled(self, state: _OrderState, ids: Sequence[str]) -> None:
        outcomes, order = self._parts.outcomes, state.order
        self._settle(state, Outcome.FULFILLED, "", lambda: outcomes.record_fulfilled(order, ids))

    def _settle_skipped(self, state: _OrderState, have: Sequence[ExistingFulfillment]) -> None:
        ids = [fulfillment.id for fulfillment in have]
        outcomes, order = self._parts.outcomes, state.order
        reason = nothing_to_fulfill(order, self._parts.policy)
        self._settle(
            state, Outcome.SKIPPED, reason, lambda: outcomes.record_skipped(order, reason, ids)
        )

    def _settle_canceled(self, state: _OrderState, reason: str) -> None:
        outcomes, order = self._parts.outcomes, state.order
        self._settle(
            state, Outcome.CANCELED, reason, lambda: outcomes.record_canceled(order, reason)
        )

    def _settle_awaiting_payment(self, state: _OrderState, looked_at: float) -> None:
        outcomes, order = self._parts.outcomes, state.order
        detail = f"payment status {order.payment_status or 'unknown'}"
        self._settle(
            state,
            Outcome.AWAITING_PAYMENT,
            detail,
            lambda: outcomes.record_awaiting_payment(order, looked_at),
        )

    def _noted(self, requests: Sequence[FulfillmentRequest]) -> list[FulfillmentRequest]:
        """The requests that will tell their fulfillment as ours: marked ones as they are, the
        others once their orders' records say what Wix had before this create."""
        outcomes = self._parts.outcomes
        unmarked = [request for request in requests if not request.marked]
        states = [self.pending[request.order_id] for request in unmarked]
        answers = self._parts.concurrently(
            [
                functools.partial(
                    _failure_or,
                    functools.partial(
                        outcomes.note_before_create, state.order, sorted(state.existing_ids)
                    ),
                )
                for state in states
            ]
        )
        noted: set[str] = set()
        for request, state, still_pending in zip(unmarked, states, answers, strict=True):
            if isinstance(still_pending, RecordingFailed):
                state.last_error = f"not created, its record could not be written: {still_pending}"
                continue
            if not still_pending:
                del self.pending[request.order_id]
                self.results[request.order_id] = OrderResult(Outcome.SETTLED_ELSEWHERE)
                continue
            state.ids_before_create = state.existing_ids
            state.create_not_landed = False
            noted.add(request.order_id)
        return [request for request in requests if request.marked or request.order_id in noted]

    def _create(self, requests: Sequence[FulfillmentRequest]) -> None:
        if not requests:
            return
        states = [self.pending[request.order_id] for request in requests]
        try:
            results = self._parts.wix.create_fulfillments(self.instance_id, requests)
        except CreateOutcomeUnknown as error:
            self._note_error(states, f"create outcome unknown: {error}")
            return
        except WixUnavailable as error:
            self._note_error(states, f"create failed: {error}")
            for state in states:
                self._not_landed(state)
            return
        for result in results:
            answered = self.pending.get(result.order_id)
            if answered is not None:
                self._settle_created(answered, result)

    def _settle_created(self, state: _OrderState, result: CreateResult) -> None:
        outcomes, order = self._parts.outcomes, state.order
        if result.created:
            self._settle_fulfilled(
                state, [i for i in result.fulfillment_ids if i not in state.existing_ids]
            )
            return
        code, message = result.error_code or "UNKNOWN", result.error_message or ""
        if code != OWN_LABEL_ALREADY_USED:
            self._not_landed(state)
        state.refusals += 1
        state.last_error = f"Wix refused it: {code} {message}".strip()
        if state.refusals >= 2:
            self._settle(
                state,
                Outcome.REJECTED,
                code,
                lambda: outcomes.record_rejected(order, code, message),
            )

    def _settle(
        self,
        state: _OrderState,
        outcome: Outcome,
        detail: str,
        record: Callable[[], bool | None],
    ) -> None:
        """Wix is done with the order; its record is written at the end of the step."""
        del self.pending[state.order.order_id]
        self._settled.append((state.order.order_id, OrderResult(outcome, detail), record))

    def _record_settled(self) -> None:
        """If recording fails the order is retried (and re-listed) later."""
        settled, self._settled = self._settled, []
        answers = self._parts.concurrently(
            [functools.partial(_failure_or, record) for _, _, record in settled]
        )
        for (order_id, result, _), answer in zip(settled, answers, strict=True):
            if isinstance(answer, RecordingFailed):
                result = OrderResult(Outcome.RETRY, f"outcome not recorded: {answer}")
            elif answer is False:
                result = OrderResult(Outcome.RETRY, "its record changed meanwhile: looked at again")
            self.results[order_id] = result

    @staticmethod
    def _not_landed(state: _OrderState) -> None:
        state.ids_before_create = None
        state.create_not_landed = True

    @staticmethod
    def _note_error(states: Iterable[_OrderState], reason: str) -> None:
        for state in states:
            state.last_error = reason
