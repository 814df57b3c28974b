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

from wix_fulfillment.core.model import ExistingFulfillment, FulfilledLine, LineItem

ANY_ITEM_TYPE: Final = "*"


@dataclass(frozen=True, slots=True)
class FulfillmentPolicy:
    """Which line items this app fulfills: shippable ones of the configured item types."""

    item_types: frozenset[str]

    def covers(self, line: LineItem) -> bool:
        return line.shippable and (
            ANY_ITEM_TYPE in self.item_types or line.item_type in self.item_types
        )


def remaining_lines(
    ordered: Iterable[LineItem],
    existing: Iterable[ExistingFulfillment],
    policy: FulfillmentPolicy,
) -> tuple[FulfilledLine, ...]:
    """Per covered line item, the quantity ordered and not yet in any fulfillment (never < 1)."""
    fulfilled: Counter[str] = Counter()
    for fulfillment in existing:
        for line in fulfillment.lines:
            fulfilled[line.id] += line.quantity
    remaining = (
        FulfilledLine(line.id, line.quantity - fulfilled[line.id])
        for line in ordered
        if policy.covers(line)
    )
    return tuple(line for line in remaining if line.quantity > 0)
