"""One worker run: fulfill a site's pending orders at Wix, and record each order's outcome.

Two rules keep every unit fulfilled exactly once although Wix's create has no idempotency
key: a create whose outcome is unknown (timeout, dropped connection, 5xx) is never sent again
blindly, the next round lists the order's fulfillments and plans from what Wix has; and an order
Wix refuses is refused twice, with a fresh listing in between, before it is REJECTED (a refusal
may be a passing error, or a race with someone else's fulfillment).
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy, remaining_lines
from wix_fulfillment.core.model import (
    MAX_ORDERS_PER_CALL,
    ApprovedOrder,
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
    WixUnavailable,
)

MAX_ROUNDS: Final = 3
MIN_SECONDS_FOR_A_ROUND: Final = 30.0
"""A round is a listing, a carrier call per order and a create, each up to ~12 s when slow."""
MIN_SECONDS_FOR_A_LABEL: Final = 15.0


class Outcome(StrEnum):
    FULFILLED = "fulfilled"
    SKIPPED = "skipped"
    REJECTED = "rejected"
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
    shipments: ShipmentProvider
    outcomes: OrderOutcomes
    policy: FulfillmentPolicy


def fulfill_orders(
    orders: Iterable[PendingOrder], parts: Collaborators, seconds_left: Callable[[], float]
) -> dict[tuple[str, str], OrderResult]:
    """Fulfill every order, site by site; the result is keyed by (instance id, order id)."""
    by_site: dict[str, dict[str, PendingOrder]] = defaultdict(dict)
    for pending in orders:
        by_site[pending.order.instance_id][pending.order.order_id] = pending
    results: dict[tuple[str, str], OrderResult] = {}
    for instance_id, site_orders in by_site.items():
        run = _SiteRun(instance_id, site_orders, parts)
        try:
            run.fulfill(seconds_left)
        except Exception as error:  # one site's surprise must not cost the other sites' orders
            run.fail_pending(f"unexpected {type(error).__name__}: {error}"[:300])
        for order_id, result in run.results.items():
            results[(instance_id, order_id)] = result
    return results


@dataclass
class _OrderState:
    order: ApprovedOrder
    ids_before_lost_create: set[str] | None
    last_error: str = "ran out of time"
    refusals: int = 0
    existing_ids: set[str] = field(default_factory=set)


class _SiteRun:
    """The rounds for one site: list, plan, create; again for orders not yet settled."""

    def __init__(
        self, instance_id: str, orders: Mapping[str, PendingOrder], parts: Collaborators
    ) -> None:
        self._instance_id = instance_id
        self._parts = parts
        self._pending = {
            order_id: _OrderState(
                pending.order,
                set(pending.fulfillment_ids_before_lost_create)
                if pending.fulfillment_ids_before_lost_create is not None
                else None,
            )
            for order_id, pending in orders.items()
        }
        self.results: dict[str, OrderResult] = {}

    def fulfill(self, seconds_left: Callable[[], float]) -> None:
        for _ in range(MAX_ROUNDS):
            if not self._pending or seconds_left() < MIN_SECONDS_FOR_A_ROUND:
                break
            requests = self._plan_round(seconds_left)
            for start in range(0, len(requests), MAX_ORDERS_PER_CALL):
                self._create(requests[start : start + MAX_ORDERS_PER_CALL])
        self.fail_pending()

    def fail_pending(self, reason: str | None = None) -> None:
        """Leave what is not settled to the stream's retry, noting why and what Wix had."""
        for state in self._pending.values():
            if reason is not None:
                state.last_error = reason
            before = state.ids_before_lost_create
            # The stream's retry comes either way; the attempt record is what the next run and
            # the operator learn from.
            with contextlib.suppress(RecordingFailed):
                self._parts.outcomes.record_failed_attempt(
                    state.order, state.last_error, sorted(before) if before is not None else None
                )
            self.results[state.order.order_id] = OrderResult(Outcome.RETRY, state.last_error)
        self._pending.clear()

    def _plan_round(self, seconds_left: Callable[[], float]) -> list[FulfillmentRequest]:
        try:
            existing = self._parts.wix.existing_fulfillments(self._instance_id, list(self._pending))
        except WixUnavailable as error:
            self._note_error(self._pending.values(), f"listing fulfillments failed: {error}")
            return []
        requests = []
        for state in list(self._pending.values()):
            have = existing.get(state.order.order_id, ())
            state.existing_ids = {fulfillment.id for fulfillment in have}
            lines = remaining_lines(state.order.line_items, have, self._parts.policy)
            if not lines:
                self._settle_nothing_left(state, have)
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

    def _settle_nothing_left(self, state: _OrderState, have: Sequence[ExistingFulfillment]) -> None:
        ids = [fulfillment.id for fulfillment in have]
        outcomes, order = self._parts.outcomes, state.order
        before = state.ids_before_lost_create
        if before is not None:
            # Our own create landed although its answer was lost.
            new_ids = [i for i in ids if i not in before]
            self._settle(
                state, Outcome.FULFILLED, "", lambda: outcomes.record_fulfilled(order, new_ids)
            )
            return
        covered = any(self._parts.policy.covers(line) for line in order.line_items)
        reason = "already fulfilled at Wix" if covered else "no line item to fulfill"
        self._settle(
            state, Outcome.SKIPPED, reason, lambda: outcomes.record_skipped(order, reason, ids)
        )

    def _create(self, requests: Sequence[FulfillmentRequest]) -> None:
        states = [self._pending[request.order_id] for request in requests]
        try:
            results = self._parts.wix.create_fulfillments(self._instance_id, requests)
        except CreateOutcomeUnknown as error:
            for state in states:
                if state.ids_before_lost_create is None:
                    state.ids_before_lost_create = set(state.existing_ids)
            self._note_error(states, f"create outcome unknown: {error}")
            return
        except WixUnavailable as error:
            self._note_error(states, f"create failed: {error}")
            return
        for result in results:
            answered = self._pending.get(result.order_id)
            if answered is not None:
                self._settle_created(answered, result)

    def _settle_created(self, state: _OrderState, result: CreateResult) -> None:
        outcomes, order = self._parts.outcomes, state.order
        if result.created:
            new_ids = [i for i in result.fulfillment_ids if i not in state.existing_ids]
            self._settle(
                state, Outcome.FULFILLED, "", lambda: outcomes.record_fulfilled(order, new_ids)
            )
            return
        code, message = result.error_code or "UNKNOWN", result.error_message or ""
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
        self, state: _OrderState, outcome: Outcome, detail: str, record: Callable[[], None]
    ) -> None:
        """Wix is done with the order; if recording fails it is retried (and re-listed) later."""
        del self._pending[state.order.order_id]
        try:
            record()
        except RecordingFailed as error:
            outcome, detail = Outcome.RETRY, f"outcome not recorded: {error}"
        self.results[state.order.order_id] = OrderResult(outcome, detail)

    @staticmethod
    def _note_error(states: Iterable[_OrderState], reason: str) -> None:
        for state in states:
            state.last_error = reason
