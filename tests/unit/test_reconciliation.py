"""The sweep's rules with an in-memory Search Orders that pages by offset, as the sandbox does."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from wix_fulfillment.core.app_instance import AppInstalled, AppRemoved, parse_app_instance_event
from wix_fulfillment.core.model import ApprovedOrder, OrderPaid
from wix_fulfillment.core.order_event import MalformedEvent
from wix_fulfillment.core.order_status import SiteStatus
from wix_fulfillment.core.reconciliation import (
    Site,
    SiteSweep,
    StalePending,
    Window,
    recovering_sweeps,
    redrive_due,
    sweep_site,
    sweep_window,
    webhooks_silent,
    wix_instant,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
SITE = Site("6a1f3c9e-2b7d-4e58-9c0a-1d2e3f4a5b6c", SiteStatus.ACTIVE, start_date=T0)


def wix_order(minute: float, *, created: float | None = None, **fields: Any) -> dict[str, Any]:
    moment = wix_instant(T0 + timedelta(minutes=minute))
    order = {
        "id": str(uuid.uuid4()),
        "number": "10001",
        "status": "APPROVED",
        "fulfillmentStatus": "NOT_FULFILLED",
        "paymentStatus": "PAID",
        "createdDate": wix_instant(T0 + timedelta(minutes=minute if created is None else created)),
        "updatedDate": moment,
        "lineItems": [
            {"id": "line-1", "quantity": 1, "physicalProperties": {"shippable": True}},
        ],
    }
    order.update(fields)
    return order


@dataclass(frozen=True)
class Page:
    orders: tuple[Mapping[str, Any], ...]
    next_cursor: str | None


@dataclass
class OffsetSearch:
    """Wix's filter on status, fulfillmentStatus and updatedDate, sorted ASC; an offset cursor."""

    orders: list[dict[str, Any]]
    requests: list[Mapping[str, Any]] = field(default_factory=list)

    def search_page(self, instance_id: str, search: Mapping[str, Any]) -> Page:
        self.requests.append(search)
        paging = search["cursorPaging"]
        if "cursor" in paging:
            assert set(search) == {"cursorPaging"}, "a cursor is sent alone"
            state = json.loads(base64.b64decode(paging["cursor"]))
            query, offset = state["query"], state["offset"]
        else:
            query, offset = dict(search), 0
        window = query["filter"]["updatedDate"]
        matching = sorted(
            (
                o
                for o in self.orders
                if o["status"] == query["filter"]["status"]["$eq"]
                and o["fulfillmentStatus"] != query["filter"]["fulfillmentStatus"]["$ne"]
                and window["$gte"] <= o["updatedDate"] < window["$lt"]
            ),
            key=lambda o: o["updatedDate"],
        )
        limit = query["cursorPaging"]["limit"]
        page = matching[offset : offset + limit]
        more = offset + limit < len(matching)
        cursor = base64.b64encode(json.dumps({"query": query, "offset": offset + limit}).encode())
        return Page(tuple(page), cursor.decode() if more else None)


@dataclass
class Table:
    stored: dict[str, ApprovedOrder] = field(default_factory=dict)
    writes: int = 0

    def insert_if_new(self, order: ApprovedOrder) -> bool:
        self.writes += 1
        if order.order_id in self.stored:
            return False
        self.stored[order.order_id] = order
        return True


def sweep(
    wix: OffsetSearch, table: Table, site: Site = SITE, until_minute: float = 600, **options: Any
) -> SiteSweep:
    window = sweep_window(site, T0 + timedelta(minutes=until_minute))
    return sweep_site(site, window, wix, table.insert_if_new, event_id="sweep:test", **options)


def test_a_first_sweep_starts_at_the_start_date_and_later_ones_at_the_watermark_minus_overlap() -> (
    None
):
    now = T0 + timedelta(hours=5)
    assert sweep_window(SITE, now) == Window(T0, now)
    swept = Site(SITE.instance_id, SiteStatus.ACTIVE, T0, watermark=T0 + timedelta(hours=4))
    assert sweep_window(swept, now).start == T0 + timedelta(hours=4, minutes=-10)
    just_started = Site(
        SITE.instance_id, SiteStatus.ACTIVE, T0, watermark=T0 + timedelta(minutes=1)
    )
    assert sweep_window(just_started, now).start == T0


def test_missing_orders_are_taken_in_once_and_stored_ones_are_left_alone() -> None:
    orders = [wix_order(minute) for minute in range(250)]
    table = Table()
    delivered = orders[::3]
    for raw in delivered:
        table.insert_if_new(ApprovedOrder(SITE.instance_id, raw["id"], "webhook", None, None, ()))
    result = sweep(OffsetSearch(orders), table)

    assert result.complete
    assert result.calls == 3
    assert sorted(result.recovered) == sorted(o["id"] for o in orders if o not in delivered)
    assert result.already_stored == len(delivered)
    assert len(table.stored) == 250
    recovered = table.stored[result.recovered[0]]
    assert recovered.event_id == "sweep:test"
    assert recovered.line_items[0].id == "line-1"
    assert result.watermark == T0 + timedelta(minutes=600)


def test_orders_fulfilled_while_the_sweep_reads_do_not_make_it_skip_others() -> None:
    """Our worker fulfills what the sweep takes in: an offset cursor would skip as many orders
    as left the filtered set before it."""
    orders = [wix_order(minute) for minute in range(300)]
    wix = OffsetSearch(orders)
    table = Table()

    def take_in_and_fulfill(order: ApprovedOrder) -> bool:
        next(o for o in orders if o["id"] == order.order_id)["fulfillmentStatus"] = "FULFILLED"
        return table.insert_if_new(order)

    window = sweep_window(SITE, T0 + timedelta(hours=10))
    result = sweep_site(SITE, window, wix, take_in_and_fulfill, event_id="sweep:test")

    assert len(result.recovered) == 300
    assert result.complete


def test_orders_created_before_the_start_date_are_never_taken_in() -> None:
    old = wix_order(30, created=-60 * 24 * 365)
    new = wix_order(31)
    table = Table()
    result = sweep(OffsetSearch([old, new]), table)

    assert result.before_start == [old["id"]]
    assert list(table.stored) == [new["id"]]


def test_a_stored_order_wix_says_is_paid_is_offered_its_payment_and_an_unpaid_one_is_not() -> None:
    """Under FULFILL_WHEN=paid a waiting order is taken up by its payment event; when that
    webhook is lost, the sweep, which sees the order unfulfilled at Wix, must bring it."""
    paid, unpaid, missing = wix_order(1), wix_order(2, paymentStatus="NOT_PAID"), wix_order(3)
    table = Table()
    for raw in (paid, unpaid):
        table.insert_if_new(ApprovedOrder(SITE.instance_id, raw["id"], "webhook", None, None, ()))
    offered: list[OrderPaid] = []

    def apply_payment(payment: OrderPaid) -> bool:
        offered.append(payment)
        return True

    result = sweep(OffsetSearch([paid, unpaid, missing]), table, apply_payment=apply_payment)

    assert offered == [OrderPaid(SITE.instance_id, paid["id"], "sweep:test", "PAID")]
    assert result.payments_applied == [paid["id"]]
    assert result.recovered == [missing["id"]], "a new order is taken in, not offered a payment"


def test_a_sweep_out_of_budget_resumes_from_its_watermark_and_misses_nothing() -> None:
    orders = [wix_order(minute / 2) for minute in range(450)]
    wix, table = OffsetSearch(orders), Table()
    first = sweep(wix, table, max_calls=2)
    assert not first.complete
    assert len(first.recovered) == 199, "page 2 reads page 1's last again"
    resumed = Site(SITE.instance_id, SiteStatus.ACTIVE, T0, watermark=first.watermark)
    second = sweep(wix, table, site=resumed)

    assert second.complete
    assert len(table.stored) == 450
    assert len(first.recovered) + len(second.recovered) == 450


def test_no_time_left_means_no_call_and_the_watermark_stays() -> None:
    result = sweep(OffsetSearch([wix_order(1)]), Table(), has_time=lambda: False)

    assert result.calls == 0
    assert not result.complete
    assert result.watermark == T0


def test_a_whole_page_at_one_instant_follows_its_cursor_alone() -> None:
    orders = [wix_order(5) for _ in range(150)] + [wix_order(6)]
    wix, table = OffsetSearch(orders), Table()
    result = sweep(wix, table)

    assert result.complete
    assert len(table.stored) == 151
    assert set(wix.requests[1]) == {"cursorPaging"}
    assert table.writes == 151, "no order read twice is written twice"


def test_unreadable_orders_are_counted_and_not_stored() -> None:
    broken = wix_order(3, lineItems=[])
    result = sweep(OffsetSearch([broken, wix_order(4)]), table := Table())

    assert result.unreadable == [broken["id"]]
    assert len(table.stored) == 1


def test_sites_whose_sweeps_keep_recovering_old_orders_are_reported_silent() -> None:
    late = SiteSweep(SITE.instance_id, Window(T0, T0), late_recovered=3)
    quiet = SiteSweep(SITE.instance_id, Window(T0, T0))
    once = recovering_sweeps(SITE, late)
    site = Site(SITE.instance_id, SiteStatus.ACTIVE, T0, recovering_sweeps=once)

    assert not webhooks_silent(once)
    assert webhooks_silent(recovering_sweeps(site, late))
    assert recovering_sweeps(site, quiet) == 0


def test_only_old_recoveries_count_towards_silence() -> None:
    result = sweep(OffsetSearch([wix_order(595), wix_order(100)]), Table())

    assert len(result.recovered) == 2
    assert result.late_recovered == 1


@pytest.mark.parametrize(
    ("hours_idle", "redrives", "due"), [(2, 0, True), (0.5, 0, False), (2, 3, False)]
)
def test_stale_pending_orders_are_redriven_after_a_cool_off_a_bounded_number_of_times(
    hours_idle: float, redrives: int, due: bool
) -> None:
    now = T0 + timedelta(days=1)
    stale = StalePending("ORDER#x#y", SITE.instance_id, now - timedelta(hours=hours_idle), redrives)

    assert redrive_due(stale, now, cool_off=timedelta(hours=1), max_redrives=3) is due


def app_claims(event_type: str, instance_id: str = SITE.instance_id) -> dict[str, Any]:
    webhook = {"eventType": event_type, "instanceId": instance_id, "data": '{"appId": "x"}'}
    return {"data": json.dumps(webhook)}


def test_app_instance_events_are_parsed_and_others_refused() -> None:
    assert parse_app_instance_event(app_claims("AppInstalled")) == AppInstalled(SITE.instance_id)
    assert parse_app_instance_event(app_claims("AppRemoved")) == AppRemoved(SITE.instance_id)
    with pytest.raises(MalformedEvent):
        parse_app_instance_event(app_claims("wix.ecom.v1.order_approved"))
    with pytest.raises(MalformedEvent):
        parse_app_instance_event(app_claims("AppRemoved", instance_id="not a guid"))
