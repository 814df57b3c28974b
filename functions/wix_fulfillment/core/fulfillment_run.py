"""One worker run: fulfil a site's pending orders at Wix, and record each order's outcome.

The ports below are what the run needs of the outside world; adapters implement them, tests fake
them. A create whose outcome is unknown (timeout, dropped connection, 5xx) is never retried
blindly: the next round lists the order's fulfillments again and plans from what Wix has.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from wix_fulfillment.core.fulfillment_plan import (
    ExistingFulfillment,
    FulfilledLine,
    FulfillmentPolicy,
    remaining_lines,
    split_into_fulfillments,
)
from wix_fulfillment.core.order_event import ApprovedOrder

MAX_ORDERS_PER_CALL: Final = 100
"""Wix's limit for both list-by-ids and bulk create."""
MAX_ROUNDS: Final = 3
MIN_SECONDS_FOR_A_ROUND: Final = 5.0


class WixUnavailable(Exception):
    """Wix did not answer usefully (after retries); nothing was created by the failed call."""


class CreateOutcomeUnknown(Exception):
    """A create was sent but its answer was lost: the fulfillments may or may not exist."""


class RecordingFailed(Exception):
    """The outcome could not be written; the order stays PENDING and comes back on the stream."""


class TrackingUnavailable(Exception):
    """The shipment provider could not give tracking info now."""


@dataclass(frozen=True, slots=True)
class TrackingInfo:
    tracking_number: str
    shipping_provider: str
    tracking_link: str | None = None


@dataclass(frozen=True, slots=True)
class FulfillmentRequest:
    order_id: str
    fulfillments: tuple[tuple[FulfilledLine, ...], ...]
    tracking: TrackingInfo | None


@dataclass(frozen=True, slots=True)
class CreateResult:
    """Wix's answer for one order of a create call: its fulfillment ids, or why it refused."""

    order_id: str
    fulfillment_ids: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None

    @property
    def created(self) -> bool:
        return self.error_code is None


class WixFulfillments(Protocol):
    def existing_fulfillments(
        self, instance_id: str, order_ids: Sequence[str]
    ) -> Mapping[str, Sequence[ExistingFulfillment]]: ...

    def create_fulfillments(
        self, instance_id: str, requests: Sequence[FulfillmentRequest]
    ) -> Sequence[CreateResult]: ...


class ShipmentProvider(Protocol):
    def tracking_for(
        self, order: ApprovedOrder, lines: Sequence[FulfilledLine]
    ) -> TrackingInfo | None: ...


class OrderOutcomes(Protocol):
    """Where outcomes are recorded; each call changes an order only while it is PENDING."""

    def record_fulfilled(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> None: ...

    def record_skipped(
        self, order: ApprovedOrder, reason: str, fulfillment_ids: Sequence[str]
    ) -> None: ...

    def record_rejected(self, order: ApprovedOrder, code: str, message: str) -> None: ...

    def record_failed_attempt(self, order: ApprovedOrder, reason: str) -> None: ...


class Outcome(StrEnum):
    FULFILLED = "fulfilled"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    RETRY = "retry"
    """Not settled in this run: the stream delivers the order again (and at last to the DLQ)."""


@dataclass(frozen=True, slots=True)
class Collaborators:
    wix: WixFulfillments
    shipments: ShipmentProvider
    outcomes: OrderOutcomes
    policy: FulfillmentPolicy


def fulfil_orders(
    orders: Iterable[ApprovedOrder], parts: Collaborators, seconds_left: Callable[[], float]
) -> dict[tuple[str, str], Outcome]:
    """Fulfil every order, site by site; the result is keyed by (instance id, order id)."""
    by_site: dict[str, dict[str, ApprovedOrder]] = defaultdict(dict)
    for order in orders:
        by_site[order.instance_id][order.order_id] = order
    results: dict[tuple[str, str], Outcome] = {}
    for instance_id, site_orders in by_site.items():
        run = _SiteRun(instance_id, site_orders, parts)
        for order_id, outcome in run.fulfil(seconds_left).items():
            results[(instance_id, order_id)] = outcome
    return results


class _SiteRun:
    """The rounds for one site: list, plan, create; again for orders whose create was lost."""

    def __init__(
        self, instance_id: str, orders: Mapping[str, ApprovedOrder], parts: Collaborators
    ) -> None:
        self._instance_id = instance_id
        self._pending = dict(orders)
        self._parts = parts
        self._outcomes: dict[str, Outcome] = {}
        self._existing_ids: dict[str, set[str]] = {}
        self._ids_before_lost_create: dict[str, set[str]] = {}
        self._last_error: dict[str, str] = {}

    def fulfil(self, seconds_left: Callable[[], float]) -> dict[str, Outcome]:
        for _ in range(MAX_ROUNDS):
            if not self._pending or seconds_left() < MIN_SECONDS_FOR_A_ROUND:
                break
            requests = self._plan_round()
            for start in range(0, len(requests), MAX_ORDERS_PER_CALL):
                self._create(requests[start : start + MAX_ORDERS_PER_CALL])
        for order in self._pending.values():
            reason = self._last_error.get(order.order_id, "ran out of time")
            # The stream's retry comes either way; the attempt count is only a hint.
            with contextlib.suppress(RecordingFailed):
                self._parts.outcomes.record_failed_attempt(order, reason)
            self._outcomes[order.order_id] = Outcome.RETRY
        return self._outcomes

    def _plan_round(self) -> list[FulfillmentRequest]:
        try:
            existing = self._parts.wix.existing_fulfillments(self._instance_id, list(self._pending))
        except WixUnavailable as error:
            self._fail_all(f"listing fulfillments failed: {error}")
            return []
        self._existing_ids = {
            order_id: {fulfillment.id for fulfillment in existing.get(order_id, ())}
            for order_id in self._pending
        }
        requests = []
        for order in list(self._pending.values()):
            have = existing.get(order.order_id, ())
            lines = remaining_lines(order.line_items, have, self._parts.policy)
            if not lines:
                self._settle_nothing_left(order, have)
                continue
            try:
                tracking = self._parts.shipments.tracking_for(order, lines)
            except TrackingUnavailable as error:
                self._last_error[order.order_id] = f"tracking info unavailable: {error}"
                continue
            requests.append(
                FulfillmentRequest(order.order_id, split_into_fulfillments(lines), tracking)
            )
        return requests

    def _settle_nothing_left(
        self, order: ApprovedOrder, have: Sequence[ExistingFulfillment]
    ) -> None:
        ids = [fulfillment.id for fulfillment in have]
        before = self._ids_before_lost_create.get(order.order_id)
        outcomes = self._parts.outcomes
        if before is not None:
            # Our own create landed although its answer was lost.
            new_ids = [i for i in ids if i not in before]
            self._settle(
                order, Outcome.FULFILLED, lambda: outcomes.record_fulfilled(order, new_ids)
            )
            return
        covered = any(self._parts.policy.covers(line) for line in order.line_items)
        reason = "already fulfilled at Wix" if covered else "no line item to fulfil"
        self._settle(order, Outcome.SKIPPED, lambda: outcomes.record_skipped(order, reason, ids))

    def _create(self, requests: Sequence[FulfillmentRequest]) -> None:
        try:
            results = self._parts.wix.create_fulfillments(self._instance_id, requests)
        except CreateOutcomeUnknown as error:
            for request in requests:
                self._ids_before_lost_create.setdefault(
                    request.order_id, set(self._existing_ids[request.order_id])
                )
                self._last_error[request.order_id] = f"create outcome unknown: {error}"
            return
        except WixUnavailable as error:
            for request in requests:
                self._last_error[request.order_id] = f"create failed: {error}"
            return
        for result in results:
            order = self._pending.get(result.order_id)
            if order is not None:
                self._settle_created(order, result)

    def _settle_created(self, order: ApprovedOrder, result: CreateResult) -> None:
        outcomes = self._parts.outcomes
        if result.created:
            known = self._existing_ids[result.order_id]
            new_ids = [i for i in result.fulfillment_ids if i not in known]
            self._settle(
                order, Outcome.FULFILLED, lambda: outcomes.record_fulfilled(order, new_ids)
            )
            return
        code, message = result.error_code or "UNKNOWN", result.error_message or ""
        self._settle(
            order, Outcome.REJECTED, lambda: outcomes.record_rejected(order, code, message)
        )

    def _settle(self, order: ApprovedOrder, outcome: Outcome, record: Callable[[], None]) -> None:
        """Wix is done with the order; if recording fails it is retried (and re-listed) later."""
        del self._pending[order.order_id]
        try:
            record()
        except RecordingFailed:
            outcome = Outcome.RETRY
        self._outcomes[order.order_id] = outcome

    def _fail_all(self, reason: str) -> None:
        for order_id in self._pending:
            self._last_error[order_id] = reason
