"""What Wix accepts or refuses in a fulfillment, and what an order's fulfillment status becomes.

Pure rules over one order, no lock and no counters, so each can be read against Wix's
documentation (``shared/wix/api-facts.md``) on its own; ``orders`` applies them atomically.
Rules Wix does not document are listed in ``unconfirmed``.
"""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from infra.wix_sandbox import errors
from infra.wix_sandbox.clock import iso_timestamp
from infra.wix_sandbox.errors import application_error, validation_error
from infra.wix_sandbox.parsing import json_object, listed, whole_number
from infra.wix_sandbox.tracking import known_tracking_link

APPROVED: Final = "APPROVED"
CANCELED: Final = "CANCELED"
ORDER_STATUSES: Final = frozenset({"INITIALIZED", "APPROVED", "CANCELED", "PENDING", "REJECTED"})
NOT_FULFILLED: Final = "NOT_FULFILLED"
PARTIALLY_FULFILLED: Final = "PARTIALLY_FULFILLED"
FULFILLED: Final = "FULFILLED"

MAX_FULFILLMENT_LINE_ITEMS: Final = 300
MAX_QUANTITY: Final = 100_000
MAX_TRACKING_FIELD_LENGTH: Final = 100
MAX_TRACKING_LINK_LENGTH: Final = 2048
MAX_LINE_ITEM_ID_LENGTH: Final = 100


@dataclass(frozen=True, slots=True)
class LineItem:
    id: str
    quantity: int
    shippable: bool


@dataclass(slots=True)
class Order:
    instance_id: str
    document: dict[str, Any]  # the Wix Order object, as a webhook carries it
    line_items: dict[str, LineItem]
    fulfillments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        order_id: str = self.document["id"]
        return order_id

    def fulfilled_quantities(self) -> Counter[str]:
        fulfilled: Counter[str] = Counter()
        for fulfillment in self.fulfillments:
            for line in fulfillment["lineItems"]:
                fulfilled[line["id"]] += line["quantity"]
        return fulfilled

    def with_fulfillments(self, as_of: str | None = None) -> dict[str, Any]:
        """``as_of``: only the fulfillments created by then (ISO timestamps compare as text)."""
        shown = [f for f in self.fulfillments if as_of is None or f["createdDate"] <= as_of]
        return {"orderId": self.id, "fulfillments": copy.deepcopy(shown)}


@dataclass(frozen=True, slots=True)
class FulfillmentRequest:
    """A fulfillment as asked for, checked for shape only (not yet against the order)."""

    field: str
    line_items: tuple[tuple[str, int | None], ...]
    tracking_info: dict[str, str] | None
    custom_info: dict[str, Any] | None


def fulfillment_status(line_items: Mapping[str, LineItem], fulfilled: Mapping[str, int]) -> str:
    """Recomputed from the shippable line items, the ones that need a fulfillment.

    Wix fulfills orders without anything to ship automatically (the digital order of its Order
    Approved example is FULFILLED at approval), so an order with no shippable line item is
    FULFILLED; otherwise it is FULFILLED once every shippable item's whole quantity is in
    fulfillments, PARTIALLY_FULFILLED once some of it is.
    """
    shippable = [item for item in line_items.values() if item.shippable]
    if all(fulfilled.get(item.id, 0) >= item.quantity for item in shippable):
        return FULFILLED
    if any(fulfilled.get(item.id, 0) > 0 for item in shippable):
        return PARTIALLY_FULFILLED
    return NOT_FULFILLED


def refresh_fulfillment_status(order: Order) -> None:
    order.document["fulfillmentStatus"] = fulfillment_status(
        order.line_items, order.fulfilled_quantities()
    )
    order.document["updatedDate"] = iso_timestamp()


def order_line_items(raw: object) -> dict[str, LineItem]:
    """The line items of an order given to the control API, under Wix's limits."""
    line_items: dict[str, LineItem] = {}
    for index, raw_item in enumerate(listed(raw, "order.lineItems", "line item")):
        item_id, item = _line_item(raw_item, f"order.lineItems[{index}]")
        quantity = item.get("quantity")
        if item_id in line_items:
            raise validation_error(f"order.lineItems[{index}].id", "line item ids must be unique")
        if not whole_number(quantity, 1, MAX_QUANTITY):
            raise validation_error(
                f"order.lineItems[{index}].quantity", f"a whole number from 1 to {MAX_QUANTITY}"
            )
        physical = item.get("physicalProperties")
        shippable = isinstance(physical, Mapping) and physical.get("shippable") is True
        line_items[item_id] = LineItem(item_id, quantity, shippable)
    return line_items


def fulfillment_request(raw: object, where: str) -> FulfillmentRequest:
    fulfillment = json_object(raw, where)
    line_items = listed(fulfillment.get("lineItems"), f"{where}.lineItems", "line item")
    if len(line_items) > MAX_FULFILLMENT_LINE_ITEMS:
        raise validation_error(
            f"{where}.lineItems", f"at most {MAX_FULFILLMENT_LINE_ITEMS} line items per fulfillment"
        )
    parsed: dict[str, int | None] = {}
    for index, raw_item in enumerate(line_items):
        item_id, item = _line_item(raw_item, f"{where}.lineItems[{index}]")
        quantity = item.get("quantity")
        if quantity is not None and not whole_number(quantity, 1, MAX_QUANTITY):
            raise validation_error(
                f"{where}.lineItems[{index}].quantity",
                f"must be a whole number from 1 to {MAX_QUANTITY}",
            )
        if item_id in parsed:
            raise validation_error(
                f"{where}.lineItems[{index}].id", "appears more than once in this fulfillment"
            )
        parsed[item_id] = quantity
    tracking, custom = _tracking_or_custom(fulfillment, where)
    return FulfillmentRequest(
        field=where,
        line_items=tuple(parsed.items()),
        tracking_info=None
        if tracking is None
        else tracking_info(tracking, f"{where}.trackingInfo"),
        custom_info=None if custom is None else _custom_info(custom, f"{where}.customInfo"),
    )


def fulfill(order: Order, request: FulfillmentRequest, reserved: Counter[str]) -> dict[str, Any]:
    """Check a request against the order and make the fulfillment; ``reserved`` holds what other
    fulfillments of the same bulk entry already take."""
    status = order.document.get("status")
    if status != APPROVED:
        raise application_error(
            400,
            errors.ORDER_NOT_APPROVED,
            f"fulfillments can be created only for APPROVED orders; this order is {status}",
        )
    if request.tracking_info is not None:
        _refuse_known_tracking_number(order, request.tracking_info["trackingNumber"])
    fulfilled = order.fulfilled_quantities()
    lines: list[dict[str, Any]] = []
    for index, (item_id, quantity) in enumerate(request.line_items):
        line_item = order.line_items.get(item_id)
        if line_item is None:
            raise application_error(
                400,
                errors.LINE_ITEM_NOT_FOUND,
                f"{request.field}.lineItems[{index}].id: the order has no such line item",
            )
        remaining = line_item.quantity - fulfilled[item_id] - reserved[item_id]
        wanted = remaining if quantity is None else quantity
        if not 1 <= wanted <= remaining:
            raise application_error(
                400,
                errors.FULFILLMENT_QUANTITY_EXCEEDED,
                f"{request.field}.lineItems[{index}]: {wanted} asked for, {remaining} of "
                f"{line_item.quantity} not yet fulfilled",
            )
        lines.append({"id": item_id, "quantity": wanted})
    for line in lines:
        reserved[line["id"]] += line["quantity"]
    fulfillment: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "createdDate": iso_timestamp(),
        "lineItems": lines,
    }
    if request.tracking_info is not None:
        fulfillment["trackingInfo"] = dict(request.tracking_info)
    if request.custom_info is not None:
        fulfillment["customInfo"] = copy.deepcopy(request.custom_info)
    return fulfillment


def _refuse_known_tracking_number(order: Order, number: str) -> None:
    """Wix's documented 409, checked before the quantities (their order is unconfirmed): a
    re-create after a lost answer meets it even though its units are fulfilled already."""
    for fulfillment in order.fulfillments:
        if fulfillment.get("trackingInfo", {}).get("trackingNumber") == number:
            raise application_error(
                409,
                errors.TRACKING_NUMBER_ALREADY_EXISTS,
                f"the order already has a fulfillment with tracking number {number}",
            )


def update_changes(body: object) -> Mapping[str, Any]:
    """An update's ``fulfillment``, checked for shape before the order is looked up."""
    changes = json_object(json_object(body, "body").get("fulfillment"), "fulfillment")
    _tracking_or_custom(changes, "fulfillment")
    line_items = changes.get("lineItems")
    if line_items is not None and not isinstance(line_items, list):
        raise validation_error("fulfillment.lineItems", "must be a list of line items")
    return changes


def apply_update(fulfillment: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Only ``trackingInfo`` and ``customInfo`` change; a fulfillment's line items do not."""
    if "lineItems" in changes and changes["lineItems"] is not None:
        asked = [
            {"id": item.get("id"), "quantity": item.get("quantity")}
            for item in changes["lineItems"]
            if isinstance(item, Mapping)
        ]
        if asked != fulfillment["lineItems"]:
            raise validation_error(
                "fulfillment.lineItems", "a fulfillment's line items cannot be updated"
            )
    tracking, custom = changes.get("trackingInfo"), changes.get("customInfo")
    if tracking is not None:
        fulfillment["trackingInfo"] = tracking_info(tracking, "fulfillment.trackingInfo")
        fulfillment.pop("customInfo", None)
    elif custom is not None:
        fulfillment["customInfo"] = _custom_info(custom, "fulfillment.customInfo")
        fulfillment.pop("trackingInfo", None)


def find_fulfillment(order: Order, fulfillment_id: str) -> dict[str, Any]:
    for fulfillment in order.fulfillments:
        if fulfillment["id"] == fulfillment_id:
            return fulfillment
    raise application_error(404, errors.FULFILLMENT_NOT_FOUND, "fulfillment not found")


def tracking_info(raw: object, where: str) -> dict[str, str]:
    """Wix's limits; the link is filled in for the carriers Wix knows and required for others."""
    tracking = json_object(raw, where)
    number = _tracking_text(tracking.get("trackingNumber"), f"{where}.trackingNumber")
    provider = _tracking_text(tracking.get("shippingProvider"), f"{where}.shippingProvider")
    link = tracking.get("trackingLink")
    if link is None or link == "":
        link = known_tracking_link(provider, number)
        if link is None:
            raise validation_error(
                f"{where}.trackingLink",
                f"required for shipping provider {provider!r} (Wix fills it in only for fedex, "
                "ups, usps, dhl and canadaPost)",
            )
    elif not _is_web_url(link):
        raise validation_error(f"{where}.trackingLink", "must be an http(s) URL")
    return {"trackingNumber": number, "shippingProvider": provider, "trackingLink": str(link)}


def _tracking_or_custom(fulfillment: Mapping[str, Any], where: str) -> tuple[object, object]:
    """A fulfillment carries ``trackingInfo`` or ``customInfo``, never both."""
    tracking, custom = fulfillment.get("trackingInfo"), fulfillment.get("customInfo")
    if tracking is not None and custom is not None:
        raise validation_error(where, "set trackingInfo or customInfo, not both")
    return tracking, custom


def _custom_info(raw: object, where: str) -> dict[str, Any]:
    return copy.deepcopy(dict(json_object(raw, where)))


def _line_item(raw: object, where: str) -> tuple[str, Mapping[str, Any]]:
    """A line item object and its id, which every line item of a request must have."""
    item = json_object(raw, where)
    item_id = item.get("id")
    if not isinstance(item_id, str) or not 1 <= len(item_id) <= MAX_LINE_ITEM_ID_LENGTH:
        raise validation_error(f"{where}.id", "required line item id")
    return item_id, item


def _tracking_text(value: object, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TRACKING_FIELD_LENGTH:
        raise validation_error(where, f"required, 1 to {MAX_TRACKING_FIELD_LENGTH} characters")
    return value


def _is_web_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > MAX_TRACKING_LINK_LENGTH:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
