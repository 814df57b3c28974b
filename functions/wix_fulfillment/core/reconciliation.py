"""The sweep: per site, the orders Wix has that no webhook brought, taken in through the webhook's
own conditional write, so a recovered order is stored once and a delivered one is not touched.

A site's window runs from its watermark minus an overlap (Wix's search index may show an order
after its update time) to the sweep's start, never before the site's start date. Pages are read
in ``updatedDate`` order, each from the last instant read (keyset), not from an offset: orders
leave the filtered set while the sweep reads (our worker fulfills what the sweep recovers), and an
offset cursor would then skip as many orders as left before it. Only when a whole page shares one
instant is its cursor followed (carrying nothing else, as Wix asks). An order moved later by an
update is read again later or by the next sweep: never missed, at worst a no-op write.

An order stored already that Wix now says is paid gets the payment event's write too, so an order
waiting for its payment (``FULFILL_WHEN=paid``) is not left waiting when that webhook is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from wix_fulfillment.core.fulfillment_plan import PAID_STATUSES
from wix_fulfillment.core.model import MAX_ORDERS_PER_CALL, ApprovedOrder, OrderPaid

# The webhook's own check of the order number (its module is to make it public).
from wix_fulfillment.core.order_event import MalformedEvent, optional_text, order_now
from wix_fulfillment.core.order_status import SiteStatus

WINDOW_FIELD: Final = "updatedDate"
"""An order approved long after it was created is updated then: a window on ``createdDate``
would miss it once the window has passed."""
APPROVED: Final = "APPROVED"
FULFILLED: Final = "FULFILLED"
DEFAULT_OVERLAP: Final = timedelta(minutes=10)
DEFAULT_CALLS_PER_SITE: Final = 20
"""Search pages per site per sweep: 10% of Wix's 200 calls a minute per site, left to the worker
the rest (it needs about 3 per 100 orders). 2,000 orders a sweep; the next sweep goes on."""
SILENCE_GRACE: Final = timedelta(minutes=10)
"""A recovered order older than this was not merely overtaken by its webhook in flight."""
SILENT_AFTER_SWEEPS: Final = 2
"""Sweeps in a row recovering orders older than the grace: the site's webhooks are not coming."""


@dataclass(frozen=True, slots=True)
class Site:
    instance_id: str
    status: SiteStatus
    start_date: datetime
    """Orders created before it are never taken in: installing the app fulfills nothing old."""
    watermark: datetime | None = None
    """The end of the last complete sweep: every order updated before it (give or take the
    overlap) has been looked at."""
    resume_from: datetime | None = None
    """Where a sweep cut short stopped: every order updated before it has been looked at."""
    recovering_sweeps: int = 0
    """Sweeps in a row that recovered orders older than the grace."""


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    until: datetime


class OrdersPage(Protocol):
    @property
    def orders(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def next_cursor(self) -> str | None: ...


class OrderSearch(Protocol):
    def search_page(self, instance_id: str, search: Mapping[str, Any]) -> OrdersPage: ...


@dataclass(slots=True)
class SiteSweep:
    """What one sweep of one site found; ``watermark`` is where the next one starts."""

    instance_id: str
    window: Window
    recovered: list[str] = field(default_factory=list)
    """Order ids this sweep stored (no webhook had)."""
    late_recovered: int = 0
    """Of those, orders older than the grace when the sweep started."""
    already_stored: int = 0
    payments_applied: list[str] = field(default_factory=list)
    """Order ids stored already whose payment, found at Wix, this sweep wrote: a waiting order
    pending again, or a pending one stored unpaid noted."""
    before_start: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    calls: int = 0
    complete: bool = False
    """False when the call budget or the deadline stopped it: the next sweep resumes."""
    watermark: datetime | None = None
    """Complete: the window's end. Cut short: the update time it stopped at."""


def sweep_window(site: Site, now: datetime, overlap: timedelta = DEFAULT_OVERLAP) -> Window:
    """From where a sweep cut short stopped, else from the watermark minus the overlap, never
    before the start date, to now. An order is updated no earlier than it is created, so the
    start date bounds the update window too."""
    if site.resume_from is not None:
        return Window(max(site.resume_from, site.start_date), now)
    if site.watermark is None:
        return Window(site.start_date, now)
    return Window(max(site.watermark - overlap, site.start_date), now)


def resume_point(sweep: SiteSweep) -> datetime | None:
    """Where the next sweep starts after one cut short: the update time it stopped at, with no
    overlap (resuming with it would read the same pages again without end on a busy site)."""
    if sweep.complete:
        return None
    return sweep.watermark


def search_query(window: Window, since: datetime) -> dict[str, Any]:
    """The first request of a page: approved, not fulfilled, updated in [since, until)."""
    return {
        "filter": {
            "status": {"$eq": APPROVED},
            "fulfillmentStatus": {"$ne": FULFILLED},
            WINDOW_FIELD: {"$gte": wix_instant(since), "$lt": wix_instant(window.until)},
        },
        "sort": [{"fieldName": WINDOW_FIELD, "order": "ASC"}],
        "cursorPaging": {"limit": MAX_ORDERS_PER_CALL},
    }


def sweep_site(
    site: Site,
    window: Window,
    wix: OrderSearch,
    take_in: Callable[[ApprovedOrder], bool],
    *,
    event_id: str,
    max_calls: int = DEFAULT_CALLS_PER_SITE,
    has_time: Callable[[], bool] = lambda: True,
    apply_payment: Callable[[OrderPaid], bool] | None = None,
) -> SiteSweep:
    """Reads the window page by page and takes in each eligible order (``take_in`` is intake's
    conditional write: True when it stored the order). A stored order Wix says is paid goes to
    ``apply_payment`` (a conditional write: True when it wrote; see ``payment_update``). Stops
    before a page when the budget or ``has_time`` says so; the watermark then says where the next
    sweep picks up."""
    result = SiteSweep(site.instance_id, window)
    since = window.start
    skip: set[str] = set()
    """Ids already looked at whose update time is ``since``: a keyset page reads them again."""
    cursor: str | None = None
    late_before = window.until - SILENCE_GRACE
    while True:
        if result.calls >= max_calls or not has_time():
            result.watermark = since
            return result
        search = {"cursorPaging": {"cursor": cursor}} if cursor else search_query(window, since)
        page = wix.search_page(site.instance_id, search)
        result.calls += 1
        page_last: datetime | None = None
        at_last: set[str] = set()
        for raw in page.orders:
            order_id = str(raw.get("id", ""))
            updated = _instant(raw.get(WINDOW_FIELD))
            if updated == since and order_id in skip:
                continue
            _look_at(site, raw, result, take_in, apply_payment, event_id, late_before)
            if updated is None:
                continue
            if page_last is None or updated > page_last:
                page_last, at_last = updated, {order_id}
            elif updated == page_last:
                at_last.add(order_id)
        if page.next_cursor is None:
            result.complete = True
            result.watermark = window.until
            return result
        if page_last is None or page_last <= since or len(at_last) >= len(page.orders):
            cursor = page.next_cursor  # a whole page at one instant: only its cursor goes on
            if page_last == since:
                skip |= at_last
        else:
            since, cursor, skip = page_last, None, at_last


def _look_at(
    site: Site,
    raw: Mapping[str, Any],
    result: SiteSweep,
    take_in: Callable[[ApprovedOrder], bool],
    apply_payment: Callable[[OrderPaid], bool] | None,
    event_id: str,
    late_before: datetime,
) -> None:
    order_id = str(raw.get("id", ""))[:64]
    try:
        order = approved_order(raw, site.instance_id, event_id)
    except MalformedEvent:
        result.unreadable.append(order_id)
        return
    if raw.get("status") != APPROVED or raw.get("fulfillmentStatus") == FULFILLED:
        return  # the filter says so already; a Wix that ignored it must not make us ship
    created = _instant(raw.get("createdDate"))
    if created is None or created < site.start_date:
        result.before_start.append(order.order_id)
        return
    if take_in(order):
        result.recovered.append(order.order_id)
        if created < late_before:
            result.late_recovered += 1
        return
    result.already_stored += 1
    if apply_payment is None or order.payment_status not in PAID_STATUSES:
        return
    payment = OrderPaid(order.instance_id, order.order_id, event_id, order.payment_status)
    if apply_payment(payment):
        result.payments_applied.append(order.order_id)


def approved_order(raw: Mapping[str, Any], instance_id: str, event_id: str) -> ApprovedOrder:
    """The webhook's projection of an order Search Orders returned (no buyer data)."""
    now = order_now(raw)
    return ApprovedOrder(
        instance_id=instance_id,
        order_id=now.order_id,
        event_id=event_id,
        order_number=optional_text(raw.get("number"), "order number"),
        event_time=None,
        line_items=now.line_items,
        payment_status=now.payment_status,
        pickup=now.pickup,
    )


def recovering_sweeps(site: Site, sweep: SiteSweep) -> int:
    """Consecutive sweeps of the site that recovered orders its webhooks should have brought."""
    return site.recovering_sweeps + 1 if sweep.late_recovered else 0


def webhooks_silent(recovering: int) -> bool:
    return recovering >= SILENT_AFTER_SWEEPS


@dataclass(frozen=True, slots=True)
class StalePending:
    """A PENDING order of ours, as the sweep's table scan sees it."""

    key: str
    instance_id: str
    updated_at: datetime
    auto_redrives: int


def redrive_due(
    order: StalePending, now: datetime, *, cool_off: timedelta, max_redrives: int
) -> bool:
    """Long after its last attempt (the stream gave up: a dead-lettered batch), a bounded number
    of times. A removed site's order too: the worker then records it SKIPPED with the reason,
    calling Wix for nothing, so it does not stay PENDING."""
    return order.auto_redrives < max_redrives and now - order.updated_at >= cool_off


def wix_instant(moment: datetime) -> str:
    """Wix's date form: ISO 8601 in UTC with milliseconds and ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
