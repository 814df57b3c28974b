"""The orders of a site the app was removed from (App Instance Removed): Wix gives no token for
a removed instance, so trying them would only retry them into the dead-letter queue. The worker
records each one SKIPPED with the reason instead, and calls Wix for none of them."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

from wix_fulfillment.core.fulfillment_run import OrderResult, Outcome
from wix_fulfillment.core.model import (
    ApprovedOrder,
    Concurrently,
    OrderOutcomes,
    PendingOrder,
    RecordingFailed,
    in_turn,
)

APP_REMOVED_REASON: Final = "the app was removed from the site: nothing can be fulfilled there"


def settle_removed_sites_orders(
    orders: Iterable[PendingOrder],
    outcomes: OrderOutcomes,
    concurrently: Concurrently = in_turn,
) -> dict[tuple[str, str], OrderResult]:
    """Each order SKIPPED with ``APP_REMOVED_REASON``; one whose record could not be written is
    left for the stream's retry. Keyed by (instance id, order id)."""
    settling = [pending.order for pending in orders]
    results = concurrently([functools.partial(_skipped, outcomes, order) for order in settling])
    return {
        (order.instance_id, order.order_id): result
        for order, result in zip(settling, results, strict=True)
    }


def _skipped(outcomes: OrderOutcomes, order: ApprovedOrder) -> OrderResult:
    try:
        outcomes.record_skipped(order, APP_REMOVED_REASON, ())
    except RecordingFailed as error:
        return OrderResult(Outcome.RETRY, f"outcome not recorded: {error}")
    return OrderResult(Outcome.SKIPPED, APP_REMOVED_REASON)
