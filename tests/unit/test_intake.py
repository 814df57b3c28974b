"""The intake decision, with in-memory stores standing in for the table."""

from __future__ import annotations

import json

import pytest

from tests.support.webhooks import INSTANCE_ID, claims_for, seed_order_envelope
from wix_fulfillment.core.app_instance import AppInstalled, AppRemoved
from wix_fulfillment.core.intake import IntakeOutcome, take_in
from wix_fulfillment.core.model import ApprovedOrder, OrderCanceled, OrderPaid
from wix_fulfillment.core.order_event import MalformedEvent
from wix_fulfillment.core.order_status import SiteStatus


class InMemoryOrders:
    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], ApprovedOrder] = {}
        self.canceled: list[OrderCanceled] = []
        self.payments: list[OrderPaid] = []

    def cancel(self, event: OrderCanceled) -> bool:
        self.canceled.append(event)
        return True

    def note_payment(self, event: OrderPaid) -> bool:
        self.payments.append(event)
        return True

    def insert_if_new(self, order: ApprovedOrder) -> bool:
        key = (order.instance_id, order.order_id)
        if key in self.orders:
            return False
        self.orders[key] = order
        return True


class InMemorySites:
    """The registry's rules: registered once, removed kept removed but by an install."""

    def __init__(self, orders: InMemoryOrders | None = None) -> None:
        self.status: dict[str, SiteStatus] = {}
        self.orders_when_seen: list[int] = []
        self._orders = orders

    def seen(self, instance_id: str) -> None:
        self.orders_when_seen.append(len(self._orders.orders) if self._orders else 0)
        self.status.setdefault(instance_id, SiteStatus.ACTIVE)

    def installed(self, instance_id: str) -> bool:
        if self.status.get(instance_id) is SiteStatus.ACTIVE:
            return False
        self.status[instance_id] = SiteStatus.ACTIVE
        return True

    def removed(self, instance_id: str) -> bool:
        if self.status.get(instance_id) is SiteStatus.REMOVED:
            return False
        self.status[instance_id] = SiteStatus.REMOVED
        return True


def test_first_delivery_is_accepted_and_later_ones_are_duplicates() -> None:
    store = InMemoryOrders()
    claims = claims_for(seed_order_envelope())

    outcomes = [take_in(claims, store, InMemorySites()).outcome for _ in range(3)]

    assert outcomes == [IntakeOutcome.ACCEPTED, IntakeOutcome.DUPLICATE, IntakeOutcome.DUPLICATE]
    assert len(store.orders) == 1


def test_ignored_events_never_reach_the_store() -> None:
    store = InMemoryOrders()

    sites = InMemorySites()
    claims = {"data": json.dumps({"eventType": "wix.ecom.v1.order_paid"})}

    result = take_in(claims, store, sites)

    assert result.outcome == IntakeOutcome.IGNORED
    assert store.orders == {}
    assert sites.status == {}


def order_event_claims(event_type: str, payment_status: str | None = None) -> dict[str, object]:
    envelope = seed_order_envelope()
    if payment_status is not None:
        envelope["actionEvent"]["body"]["order"]["paymentStatus"] = payment_status
    return claims_for(envelope, event_type=event_type)


def test_a_cancel_is_applied_and_a_payment_only_when_wix_has_the_money() -> None:
    store, sites = InMemoryOrders(), InMemorySites()

    canceled = take_in(order_event_claims("wix.ecom.v1.order_canceled"), store, sites)
    paid = take_in(order_event_claims(PAYMENT_EVENT, "PAID"), store, sites)
    declined = take_in(order_event_claims(PAYMENT_EVENT, "DECLINED"), store, sites)

    assert (canceled.outcome, paid.outcome) == (IntakeOutcome.APPLIED, IntakeOutcome.APPLIED)
    assert declined.outcome == IntakeOutcome.IGNORED
    assert [event.payment_status for event in store.payments] == ["PAID"]
    assert len(store.canceled) == 1
    assert store.orders == {}


PAYMENT_EVENT = "wix.ecom.v1.order_payment_status_updated"


def test_an_order_event_registers_its_site_after_the_order_is_written() -> None:
    store = InMemoryOrders()
    sites = InMemorySites(store)

    take_in(claims_for(seed_order_envelope()), store, sites)
    take_in(order_event_claims("wix.ecom.v1.order_canceled"), store, sites)

    assert sites.status == {INSTANCE_ID: SiteStatus.ACTIVE}
    assert sites.orders_when_seen == [1, 1], "the order first: it is what Wix waits for"


def app_event_claims(event_type: str, instance_id: str = INSTANCE_ID) -> dict[str, object]:
    webhook = {"eventType": event_type, "instanceId": instance_id, "data": '{"appId": "x"}'}
    return {"data": json.dumps(webhook)}


def test_app_instance_installed_and_removed_change_the_site_only() -> None:
    store, sites = InMemoryOrders(), InMemorySites()

    results = [
        take_in(app_event_claims(event_type), store, sites)
        for event_type in ("AppInstalled", "AppInstalled", "AppRemoved", "AppRemoved")
    ]

    assert [result.outcome for result in results] == [
        IntakeOutcome.APPLIED,
        IntakeOutcome.UNCHANGED,
        IntakeOutcome.APPLIED,
        IntakeOutcome.UNCHANGED,
    ]
    assert [result.event for result in results[1:3]] == [
        AppInstalled(INSTANCE_ID),
        AppRemoved(INSTANCE_ID),
    ]
    assert sites.status == {INSTANCE_ID: SiteStatus.REMOVED}
    assert store.orders == {}


def test_an_app_instance_event_without_a_site_is_malformed() -> None:
    with pytest.raises(MalformedEvent):
        take_in(app_event_claims("AppRemoved", "not a guid"), InMemoryOrders(), InMemorySites())
