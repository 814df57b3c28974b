"""The intake decision, with an in-memory store standing in for the table."""

from __future__ import annotations

import json

from tests.support.webhooks import claims_for, seed_order_envelope
from wix_fulfillment.core.intake import IntakeOutcome, take_in
from wix_fulfillment.core.model import ApprovedOrder, OrderCanceled, OrderPaid


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


def test_first_delivery_is_accepted_and_later_ones_are_duplicates() -> None:
    store = InMemoryOrders()
    claims = claims_for(seed_order_envelope())

    outcomes = [take_in(claims, store).outcome for _ in range(3)]

    assert outcomes == [IntakeOutcome.ACCEPTED, IntakeOutcome.DUPLICATE, IntakeOutcome.DUPLICATE]
    assert len(store.orders) == 1


def test_ignored_events_never_reach_the_store() -> None:
    store = InMemoryOrders()

    result = take_in({"data": json.dumps({"eventType": "wix.ecom.v1.order_paid"})}, store)

    assert result.outcome == IntakeOutcome.IGNORED
    assert store.orders == {}


def order_event_claims(event_type: str, payment_status: str | None = None) -> dict[str, object]:
    envelope = seed_order_envelope()
    if payment_status is not None:
        envelope["actionEvent"]["body"]["order"]["paymentStatus"] = payment_status
    return claims_for(envelope, event_type=event_type)


def test_a_cancel_is_applied_and_a_payment_only_when_wix_has_the_money() -> None:
    store = InMemoryOrders()

    canceled = take_in(order_event_claims("wix.ecom.v1.order_canceled"), store)
    paid = take_in(order_event_claims(PAYMENT_EVENT, "PAID"), store)
    declined = take_in(order_event_claims(PAYMENT_EVENT, "DECLINED"), store)

    assert (canceled.outcome, paid.outcome) == (IntakeOutcome.APPLIED, IntakeOutcome.APPLIED)
    assert declined.outcome == IntakeOutcome.IGNORED
    assert [event.payment_status for event in store.payments] == ["PAID"]
    assert len(store.canceled) == 1
    assert store.orders == {}


PAYMENT_EVENT = "wix.ecom.v1.order_payment_status_updated"
