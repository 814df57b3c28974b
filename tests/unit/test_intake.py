"""The intake decision, with an in-memory store standing in for the table."""

from __future__ import annotations

import json

from tests.support.webhooks import claims_for, seed_order_envelope
from wix_fulfillment.core.intake import IntakeOutcome, take_in
from wix_fulfillment.core.model import ApprovedOrder


class InMemoryOrders:
    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], ApprovedOrder] = {}

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
