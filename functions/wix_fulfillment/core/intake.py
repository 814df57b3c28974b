"""What the webhook does with a verified delivery: store a new approved order exactly once, and
apply Wix's cancel and payment events to it, each with one conditional write.

Events may come late, twice or out of order; none may bring a settled order back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wix_fulfillment.core.fulfillment_plan import PAID_STATUSES
from wix_fulfillment.core.model import (
    ApprovedOrder,
    IgnoredEvent,
    OrderCanceled,
    OrderEvent,
    OrderStore,
)
from wix_fulfillment.core.order_event import PAYMENT_STATUS_UPDATED_EVENT_TYPE, parse_webhook_claims


class IntakeOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    APPLIED = "applied"
    """A cancel or payment event changed the stored order."""
    UNCHANGED = "unchanged"
    """A cancel or payment event with nothing to change: settled, or not stored (payments)."""
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: IntakeOutcome
    event: OrderEvent | IgnoredEvent


def take_in(claims: Mapping[str, Any], store: OrderStore) -> IntakeResult:
    """Store an approved order once; every later delivery for the same order is a duplicate.

    Wix retries until it gets a 200 and may send the same order under another event id, so the
    order, not the event, is the unit of idempotency.
    """
    event = parse_webhook_claims(claims)
    if isinstance(event, IgnoredEvent):
        return IntakeResult(IntakeOutcome.IGNORED, event)
    if isinstance(event, ApprovedOrder):
        stored = store.insert_if_new(event)
        return IntakeResult(IntakeOutcome.ACCEPTED if stored else IntakeOutcome.DUPLICATE, event)
    if isinstance(event, OrderCanceled):
        changed = store.cancel(event)
    elif event.payment_status not in PAID_STATUSES:
        return IntakeResult(
            IntakeOutcome.IGNORED,
            IgnoredEvent(PAYMENT_STATUS_UPDATED_EVENT_TYPE, "not paid"),
        )
    else:
        changed = store.note_payment(event)
    return IntakeResult(IntakeOutcome.APPLIED if changed else IntakeOutcome.UNCHANGED, event)
