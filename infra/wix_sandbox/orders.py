"""The sites' orders and the Order Fulfillments API over them, each call one atomic operation.

Visibility: an order belongs to one site (instance). A token of another instance gets 404
``ORDER_NOT_FOUND`` for it, exactly as for an order that does not exist, so that a caller learns
nothing about other sites' orders. This and the other choices Wix does not document are listed
in ``unconfirmed``.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from infra.wix_sandbox import errors
from infra.wix_sandbox.clock import iso_timestamp_after
from infra.wix_sandbox.errors import WixApiError, application_error, validation_error
from infra.wix_sandbox.fulfillment_rules import (
    APPROVED,
    CANCELED,
    MAX_QUANTITY,
    ORDER_STATUSES,
    FulfillmentRequest,
    Order,
    apply_update,
    find_fulfillment,
    fulfill,
    fulfillment_request,
    fulfillment_status,
    order_line_items,
    refresh_fulfillment_status,
    update_changes,
)
from infra.wix_sandbox.order_search import search_page
from infra.wix_sandbox.parsing import is_guid, json_object, listed, require_guid, whole_number
from infra.wix_sandbox.sites import Sites
from infra.wix_sandbox.stats import Stats

MAX_ORDER_IDS_PER_LIST: Final = 100
MAX_ORDERS_PER_BULK: Final = 100

# What an order given with ``prefulfilled`` line items was shipped with.
_PREFULFILLED_TRACKING: Final = {"trackingNumber": "PREFULFILLED", "shippingProvider": "ups"}


@dataclass(frozen=True, slots=True)
class OrderChange:
    """A changed order and what Wix would tell apps of it: canceled now, or a new payment
    status (``previous_payment_status`` is what it was; None when it did not change)."""

    instance_id: str
    order: dict[str, Any]
    canceled: bool
    previous_payment_status: str | None


class Orders:
    """All orders behind one lock; a site must be installed (``sites``) to be given orders."""

    def __init__(self, sites: Sites, stats: Stats) -> None:
        self._sites = sites
        self._stats = stats
        self._lock = threading.Lock()
        self._orders: dict[str, Order] = {}

    # --- the control API's view -------------------------------------------------------------

    def add(
        self, instance_id: object, order: object, prefulfilled: object = None
    ) -> dict[str, Any]:
        """Store a Wix order for a site; ``prefulfilled`` lists ``{id, quantity}`` already shipped.

        The order's ``fulfillmentStatus`` is recomputed, as Wix would; ``status`` defaults to
        APPROVED. Returns the stored order.
        """
        if not isinstance(instance_id, str):
            raise validation_error("instanceId", "required string")
        document = copy.deepcopy(dict(json_object(order, "order")))
        document.setdefault("id", str(uuid.uuid4()))
        document.setdefault("status", APPROVED)
        if not is_guid(document["id"]):
            raise validation_error("order.id", "must be a GUID")
        if document["status"] not in ORDER_STATUSES:
            raise validation_error("order.status", _one_of_statuses())
        stored = Order(instance_id, document, order_line_items(document.get("lineItems")))
        with self._lock:
            if not self._sites.installed(instance_id):
                raise application_error(404, errors.NOT_FOUND, "no such site (instanceId)")
            if stored.id in self._orders:
                raise application_error(409, errors.CONFLICT, "an order with this id exists")
            if prefulfilled is not None:
                request = fulfillment_request(
                    {"lineItems": prefulfilled, "trackingInfo": _PREFULFILLED_TRACKING},
                    "prefulfilled",
                )
                stored.fulfillments.append(fulfill(stored, request, Counter()))
            document["fulfillmentStatus"] = fulfillment_status(
                stored.line_items, stored.fulfilled_quantities()
            )
            self._orders[stored.id] = stored
            return copy.deepcopy(document)

    def change(self, order_id: str, changes: Mapping[str, Any]) -> OrderChange:
        """A merchant's or buyer's change, all of it or nothing: ``status``, ``paymentStatus``,
        and ``refunds`` (``{lineItemId: units}`` added to each line's ``refundQuantity``). A
        refund without a ``paymentStatus`` makes the order PARTIALLY_REFUNDED, or FULLY_REFUNDED
        once every unit is refunded."""
        status, payment, refunds = (
            changes.get("status"),
            changes.get("paymentStatus"),
            changes.get("refunds"),
        )
        if status is not None and status not in ORDER_STATUSES:
            raise validation_error("status", _one_of_statuses())
        if payment is not None and not isinstance(payment, str):
            raise validation_error("paymentStatus", "must be a string")
        if refunds is not None and not isinstance(refunds, Mapping):
            raise validation_error("refunds", "must map line item ids to units")
        with self._lock:
            order = self._order(order_id)
            document = order.document
            before = (document.get("status"), document.get("paymentStatus"))
            lines = {line["id"]: line for line in document.get("lineItems", [])}
            refunded: dict[str, int] = {}
            for line_id, units in (refunds or {}).items():
                line = lines.get(line_id)
                if line is None or not whole_number(units, 1, MAX_QUANTITY):
                    raise validation_error("refunds", "unknown line item or units below 1")
                refunded[line_id] = line.get("refundQuantity", 0) + units
                if refunded[line_id] > line["quantity"]:
                    raise validation_error("refunds", "more units refunded than ordered")
            for line_id, units in refunded.items():
                lines[line_id]["refundQuantity"] = units
            if payment is None and refunded:
                every_unit = all(
                    line.get("refundQuantity", 0) >= line["quantity"] for line in lines.values()
                )
                payment = "FULLY_REFUNDED" if every_unit else "PARTIALLY_REFUNDED"
            if status is not None:
                document["status"] = status
            if payment is not None:
                document["paymentStatus"] = payment
            document["updatedDate"] = iso_timestamp_after(document.get("updatedDate"))
            return OrderChange(
                instance_id=order.instance_id,
                order=copy.deepcopy(document),
                canceled=before[0] != CANCELED and document["status"] == CANCELED,
                previous_payment_status=before[1]
                if before[1] != document.get("paymentStatus")
                else None,
            )

    def set_status(self, order_id: str, status: object) -> dict[str, Any]:
        return self.change(order_id, {"status": status}).order

    def view(self, order_id: str) -> dict[str, Any]:
        """The order as stored, with its fulfillments (for inspection, any instance)."""
        with self._lock:
            order = self._order(order_id)
            return {
                "instanceId": order.instance_id,
                "order": copy.deepcopy(order.document),
                "fulfillments": copy.deepcopy(order.fulfillments),
            }

    def owner(self, order_id: str) -> tuple[str, dict[str, Any]]:
        with self._lock:
            order = self._order(order_id)
            return order.instance_id, copy.deepcopy(order.document)

    def summaries(self, instance_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "orderId": order.id,
                    "instanceId": order.instance_id,
                    "status": order.document["status"],
                    "fulfillmentStatus": order.document["fulfillmentStatus"],
                    "fulfillments": len(order.fulfillments),
                }
                for order in self._orders.values()
                if instance_id is None or order.instance_id == instance_id
            ]

    def reset(self) -> None:
        """Forget every order and, in the same step, every site and token: no order can be
        placed meanwhile for a site that is being forgotten."""
        with self._lock:
            self._sites.reset()
            self._orders.clear()

    # --- the Orders API ------------------------------------------------------------------------

    def get_order(self, instance_id: str, order_id: str) -> dict[str, Any]:
        require_guid(order_id, "id")
        with self._lock:
            return {"order": copy.deepcopy(self._visible_order(instance_id, order_id).document)}

    def search(self, instance_id: str, body: object) -> dict[str, Any]:
        with self._lock:
            mine = [
                order.document
                for order in self._orders.values()
                if order.instance_id == instance_id
            ]
            return copy.deepcopy(search_page(mine, body))

    # --- the Order Fulfillments API ---------------------------------------------------------

    def create_fulfillment(self, instance_id: str, order_id: str, body: object) -> dict[str, Any]:
        """Create one fulfillment; ``orderId`` in the body (as the SDK sends) yields to the path."""
        require_guid(order_id, "orderId")
        request = fulfillment_request(json_object(body, "body").get("fulfillment"), "fulfillment")
        with self._lock:
            order = self._visible_order(instance_id, order_id)
            fulfillment = self._fulfill_counted(order, request, Counter())
            order.fulfillments.append(fulfillment)
            refresh_fulfillment_status(order)
            self._stats.add("fulfillmentsCreated")
            return {
                "orderWithFulfillments": order.with_fulfillments(),
                "fulfillmentId": fulfillment["id"],
            }

    def list_fulfillments(
        self, instance_id: str, order_id: str, as_of: str | None = None
    ) -> dict[str, Any]:
        """``as_of``: the listing as it was then (the stale fault), later fulfillments left out."""
        require_guid(order_id, "orderId")
        with self._lock:
            return {
                "orderWithFulfillments": self._visible_order(
                    instance_id, order_id
                ).with_fulfillments(as_of)
            }

    def list_by_ids(
        self, instance_id: str, body: object, as_of: str | None = None
    ) -> dict[str, Any]:
        """Orders the caller cannot see (unknown, or another site's) are left out of the answer."""
        order_ids = _listed_in_body(body, "orderIds", "order ids", MAX_ORDER_IDS_PER_LIST)
        for index, order_id in enumerate(order_ids):
            require_guid(order_id, f"orderIds[{index}]")
        with self._lock:
            visible = (self._orders.get(order_id) for order_id in dict.fromkeys(order_ids))
            return {
                "ordersWithFulfillments": [
                    order.with_fulfillments(as_of)
                    for order in visible
                    if order is not None and order.instance_id == instance_id
                ]
            }

    def bulk_create(self, instance_id: str, body: object) -> dict[str, Any]:
        """Each order succeeds or fails on its own, all of its fulfillments or none of them."""
        entries = _listed_in_body(body, "ordersWithFulfillments", "orders", MAX_ORDERS_PER_BULK)
        results: list[dict[str, Any]] = []
        with self._lock:
            for index, entry in enumerate(entries):
                metadata: dict[str, Any] = {"originalIndex": index}
                if isinstance(entry, Mapping) and isinstance(entry.get("orderId"), str):
                    metadata = {"id": entry["orderId"], **metadata}
                try:
                    order, created = self._bulk_entry(instance_id, entry, index)
                except WixApiError as error:
                    results.append(
                        {
                            "itemMetadata": {
                                **metadata,
                                "success": False,
                                "error": error.item_error(),
                            }
                        }
                    )
                    continue
                order.fulfillments.extend(created)
                refresh_fulfillment_status(order)
                self._stats.add("fulfillmentsCreated", len(created))
                results.append(
                    {
                        "itemMetadata": {**metadata, "success": True},
                        "ordersWithFulfillments": order.with_fulfillments(),
                    }
                )
        successes = sum(1 for result in results if result["itemMetadata"]["success"])
        return {
            "results": results,
            "bulkActionMetadata": {
                "totalSuccesses": successes,
                "totalFailures": len(results) - successes,
                "undetailedFailures": 0,
            },
        }

    def update_fulfillment(
        self, instance_id: str, order_id: str, fulfillment_id: str, body: object
    ) -> dict[str, Any]:
        require_guid(fulfillment_id, "fulfillmentId")
        require_guid(order_id, "orderId")
        changes = update_changes(body)
        with self._lock:
            order = self._visible_order(instance_id, order_id)
            apply_update(find_fulfillment(order, fulfillment_id), changes)
            refresh_fulfillment_status(order)
            return {"orderWithFulfillments": order.with_fulfillments()}

    def delete_fulfillment(
        self, instance_id: str, order_id: str, fulfillment_id: str
    ) -> dict[str, Any]:
        require_guid(fulfillment_id, "fulfillmentId")
        require_guid(order_id, "orderId")
        with self._lock:
            order = self._visible_order(instance_id, order_id)
            order.fulfillments.remove(find_fulfillment(order, fulfillment_id))
            refresh_fulfillment_status(order)
            return {"orderWithFulfillments": order.with_fulfillments()}

    # --- helpers ----------------------------------------------------------------------------

    def _bulk_entry(
        self, instance_id: str, entry: object, index: int
    ) -> tuple[Order, list[dict[str, Any]]]:
        where = f"ordersWithFulfillments[{index}]"
        item = json_object(entry, where)
        order_id = item.get("orderId")
        require_guid(order_id, f"{where}.orderId")
        raw_fulfillments = listed(item.get("fulfillments"), f"{where}.fulfillments", "fulfillment")
        requests = [
            fulfillment_request(raw, f"{where}.fulfillments[{position}]")
            for position, raw in enumerate(raw_fulfillments)
        ]
        order = self._visible_order(instance_id, str(order_id))
        reserved: Counter[str] = Counter()
        return order, [self._fulfill_counted(order, request, reserved) for request in requests]

    def _fulfill_counted(
        self, order: Order, request: FulfillmentRequest, reserved: Counter[str]
    ) -> dict[str, Any]:
        """``fulfill``, counting in the stats a request that asked for more than remains."""
        try:
            return fulfill(order, request, reserved)
        except WixApiError as error:
            if error.code == errors.FULFILLMENT_QUANTITY_EXCEEDED:
                self._stats.add("rejectedOverFulfillments")
            raise

    def _order(self, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None:
            raise application_error(404, errors.ORDER_NOT_FOUND, "order not found")
        return order

    def _visible_order(self, instance_id: str, order_id: str) -> Order:
        order = self._orders.get(order_id)
        if order is None or order.instance_id != instance_id:
            raise application_error(404, errors.ORDER_NOT_FOUND, "order not found")
        return order


def _listed_in_body(body: object, name: str, what: str, most: int) -> list[Any]:
    return listed(json_object(body, "body").get(name), name, what, most)


def _one_of_statuses() -> str:
    return f"one of {', '.join(sorted(ORDER_STATUSES))}"
