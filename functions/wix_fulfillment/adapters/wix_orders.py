"""Wix's Orders API (Search Orders): the core's ``WixOrders`` port, and pages for the sweep.

Search Orders takes Wix's API query language: a filter, a sort, and cursor paging of up to 100
orders a page. A request after the first carries only the cursor, which holds the query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from wix_fulfillment.adapters.wix_tokens import WixSession
from wix_fulfillment.core.model import MAX_ORDERS_PER_CALL, OrderNow, WixUnavailable
from wix_fulfillment.core.order_event import MalformedEvent, order_now

SEARCH_ORDERS_PATH: Final = "/ecom/v1/orders/search"


@dataclass(frozen=True, slots=True)
class OrdersPage:
    orders: tuple[Mapping[str, Any], ...]
    """As Wix returns them: buyer data included, so never logged or stored whole."""
    next_cursor: str | None


class WixOrdersClient:
    """Shares the invocation's session (its deadline, pool and tokens) with the other clients."""

    def __init__(self, session: WixSession) -> None:
        self._session = session

    def current_orders(self, instance_id: str, order_ids: Sequence[str]) -> dict[str, OrderNow]:
        """One search a hundred orders. An order Wix returns in a shape we cannot read is left
        out, like one Wix does not return: the worker leaves it for a later try."""
        found: dict[str, OrderNow] = {}
        for start in range(0, len(order_ids), MAX_ORDERS_PER_CALL):
            chunk = list(order_ids[start : start + MAX_ORDERS_PER_CALL])
            page = self.search_page(
                instance_id,
                {"filter": {"id": {"$in": chunk}}, "cursorPaging": {"limit": MAX_ORDERS_PER_CALL}},
            )
            for raw in page.orders:
                try:
                    order = order_now(raw)
                except MalformedEvent:
                    continue
                if order.order_id in chunk:
                    found[order.order_id] = order
        return found

    def search_page(self, instance_id: str, search: Mapping[str, Any]) -> OrdersPage:
        """One page: ``search`` is the first page's query, or ``{"cursorPaging": {"cursor"}}``."""
        answer = self._session.call(instance_id, "POST", SEARCH_ORDERS_PATH, {"search": search})
        orders = answer.get("orders", [])
        metadata = answer.get("metadata") or {}
        if not isinstance(orders, list) or not isinstance(metadata, dict):
            raise WixUnavailable("unexpected Search Orders answer")
        cursors = metadata.get("cursors") or {}
        next_cursor = cursors.get("next") if isinstance(cursors, dict) else None
        if not metadata.get("hasNext", bool(next_cursor)) or not isinstance(next_cursor, str):
            next_cursor = None
        return OrdersPage(tuple(o for o in orders if isinstance(o, dict)), next_cursor or None)
