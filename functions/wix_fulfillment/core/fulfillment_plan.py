"""The plan for what to fulfill: per line item, what was ordered minus what Wix already fulfilled.

Wix's create has no idempotency key, so the plan is always made from a fresh listing of the
order's fulfillments: a retry after "created, then crashed before recording" finds nothing left
and creates nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from wix_fulfillment.core.model import ApprovedOrder, ExistingFulfillment, FulfilledLine, LineItem

ANY_ITEM_TYPE: Final = "*"
PAID_STATUSES: Final = frozenset({"PAID", "PARTIALLY_REFUNDED", "FULLY_REFUNDED"})
"""Payment statuses of an order Wix has taken the money for; refunded units are the line items'
``refundQuantity``, never shipped whatever the policy."""


@dataclass(frozen=True, slots=True)
class FulfillmentPolicy:
    """Which line items this app fulfills: shippable ones of the configured item types that the
    merchant fulfills (no fulfiller app), or that name this app as their fulfiller; in pickup
    orders, only when the merchant wants those fulfilled too."""

    item_types: frozenset[str]
    fulfiller_id: str | None = None
    fulfill_pickup_orders: bool = False
    fulfill_when_paid: bool = False
    """Ship only orders Wix says are paid (``FULFILL_WHEN=paid``); else every approved order."""

    def waits_for_payment(self, payment_status: str | None) -> bool:
        return self.fulfill_when_paid and payment_status not in PAID_STATUSES

    def covers(self, line: LineItem) -> bool:
        return (
            line.shippable
            and (ANY_ITEM_TYPE in self.item_types or line.item_type in self.item_types)
            and line.fulfiller_id in (None, self.fulfiller_id)
        )

    def lines_of(self, order: ApprovedOrder) -> tuple[LineItem, ...]:
        if order.pickup and not self.fulfill_pickup_orders:
            return ()
        return tuple(line for line in order.line_items if self.covers(line))


def nothing_to_fulfill(order: ApprovedOrder, policy: FulfillmentPolicy) -> str:
    """Why an order that needs no create is SKIPPED, as its record says."""
    if order.pickup and not policy.fulfill_pickup_orders:
        return "a pickup order: nothing to ship"
    ours = [line for line in order.line_items if policy.covers(line)]
    if not ours:
        if any(line.fulfiller_id not in (None, policy.fulfiller_id) for line in order.line_items):
            return "no line item to fulfill: the others are another fulfiller's"
        return "no line item to fulfill"
    if all(line.refunded_quantity >= line.quantity for line in ours):
        return "refunded"
    return "already fulfilled at Wix"


def remaining_lines(
    ordered: Iterable[LineItem],
    existing: Iterable[ExistingFulfillment],
    policy: FulfillmentPolicy,
) -> tuple[FulfilledLine, ...]:
    """Per covered line item, the quantity ordered, not refunded and not yet in any fulfillment
    (never < 1)."""
    fulfilled: Counter[str] = Counter()
    for fulfillment in existing:
        for line in fulfillment.lines:
            fulfilled[line.id] += line.quantity
    remaining = (
        FulfilledLine(line.id, line.quantity - line.refunded_quantity - fulfilled[line.id])
        for line in ordered
        if policy.covers(line)
    )
    return tuple(line for line in remaining if line.quantity > 0)
