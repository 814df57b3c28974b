"""The stored order item: what intake writes is what the worker reads back (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wix_fulfillment.adapters.order_item import new_order_item, order_from_item
from wix_fulfillment.core.model import ApprovedOrder, LineItem


def test_every_field_the_worker_decides_on_survives_the_table() -> None:
    order = ApprovedOrder(
        instance_id="site",
        order_id="o1",
        event_id="e1",
        order_number="10002",
        event_time="2026-12-02T10:00:00Z",
        line_items=(
            LineItem("a", 3, shippable=True, item_type="PHYSICAL", refunded_quantity=1),
            LineItem("b", 1, shippable=True, item_type="PHYSICAL", fulfiller_id="pod"),
            LineItem("c", 1, shippable=False, item_type="DIGITAL"),
        ),
        payment_status="NOT_PAID",
        pickup=True,
    )

    item = new_order_item(order, datetime(2026, 12, 2, tzinfo=UTC), timedelta(days=90))

    assert order_from_item(item) == order


def test_items_stored_before_these_fields_read_as_the_merchants_unrefunded_lines() -> None:
    order = ApprovedOrder("site", "o1", "e1", None, None, (LineItem("a", 2, True, "PHYSICAL"),))
    item = new_order_item(order, datetime(2026, 12, 2, tzinfo=UTC), timedelta(days=90))

    assert set(item["lineItems"]["L"][0]["M"]) == {"id", "quantity", "shippable", "itemType"}
    assert "pickup" not in item
    assert order_from_item(item) == order
