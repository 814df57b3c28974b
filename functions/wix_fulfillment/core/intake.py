"""What the webhook does with a verified delivery: store a new approved order exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from wix_fulfillment.core.model import ApprovedOrder, IgnoredEvent, OrderStore
from wix_fulfillment.core.order_event import parse_webhook_claims


class IntakeOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: IntakeOutcome
    event: ApprovedOrder | IgnoredEvent


def take_in(claims: Mapping[str, Any], store: OrderStore) -> IntakeResult:
    """Store an approved order once; every later delivery for the same order is a duplicate.

    Wix retries until it gets a 200 and may send the same order under another event id, so the
    order, not the event, is the unit of idempotency.
    """
    event = parse_webhook_claims(claims)
    if isinstance(event, IgnoredEvent):
        return IntakeResult(IntakeOutcome.IGNORED, event)
    stored = store.insert_if_new(event)
    return IntakeResult(IntakeOutcome.ACCEPTED if stored else IntakeOutcome.DUPLICATE, event)
