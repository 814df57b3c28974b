"""What the webhook does with a verified delivery: store a new approved order exactly once, and
apply Wix's cancel and payment events to it, each with one conditional write; register the site
at its first order event, and apply App Instance Installed and Removed to the site registry.

Events may come late, twice or out of order; none may bring a settled order back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from wix_fulfillment.core.fulfillment_plan import PAID_STATUSES
from wix_fulfillment.core.model import (
    ApprovedOrder,
    IgnoredEvent,
    OrderCanceled,
    OrderEvent,
    OrderStore,
)
from wix_fulfillment.core.order_event import (
    APP_INSTANCE_EVENT_TYPES,
    PAYMENT_STATUS_UPDATED_EVENT_TYPE,
    parse_webhook_claims,
)

if TYPE_CHECKING:
    from wix_fulfillment.core.app_instance import AppInstanceEvent


class IntakeOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    APPLIED = "applied"
    """A cancel or payment event changed the stored order."""
    UNCHANGED = "unchanged"
    """A cancel or payment event with nothing to change: settled, or not stored (payments)."""
    IGNORED = "ignored"


class SiteStore(Protocol):
    """The site registry as the webhook writes it; failures raise ``OrderStoreUnavailable``."""

    def seen(self, instance_id: str) -> None:
        """Registered (ACTIVE, its start date now) unless known already."""

    def installed(self, instance_id: str) -> bool:
        """Registered, or a removed site active again; False when nothing changed."""

    def removed(self, instance_id: str) -> bool:
        """REMOVED; False when it was already."""


@dataclass(frozen=True, slots=True)
class IntakeResult:
    outcome: IntakeOutcome
    event: OrderEvent | AppInstanceEvent | IgnoredEvent


def take_in(claims: Mapping[str, Any], store: OrderStore, sites: SiteStore) -> IntakeResult:
    """Store an approved order once; every later delivery for the same order is a duplicate.

    Wix retries until it gets a 200 and may send the same order under another event id, so the
    order, not the event, is the unit of idempotency. The site is registered after the order's
    write: a failure of either is answered 503, and Wix's retry (a duplicate then) does the rest.
    """
    event = parse_webhook_claims(claims)
    if isinstance(event, IgnoredEvent):
        if event.event_type in APP_INSTANCE_EVENT_TYPES:
            return _app_instance_event(claims, sites)
        return IntakeResult(IntakeOutcome.IGNORED, event)
    result = _order_event(event, store)
    sites.seen(event.instance_id)
    return result


def _app_instance_event(claims: Mapping[str, Any], sites: SiteStore) -> IntakeResult:
    from wix_fulfillment.core.app_instance import AppInstalled, parse_app_instance_event

    event = parse_app_instance_event(claims)
    if isinstance(event, AppInstalled):
        changed = sites.installed(event.instance_id)
    else:
        changed = sites.removed(event.instance_id)
    return IntakeResult(IntakeOutcome.APPLIED if changed else IntakeOutcome.UNCHANGED, event)


def _order_event(event: OrderEvent, store: OrderStore) -> IntakeResult:
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
