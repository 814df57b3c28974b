"""The sandbox's Wix: sites, access tokens, orders, fulfillments, and every rule the API enforces.

No HTTP here: the server turns requests into these calls and ``WixApiError`` into answers. The
rules follow Wix's documentation (``shared/wix/api-facts.md``); where it leaves a choice open the
choice made is written down at the rule.

Visibility: an order belongs to one site (instance). A token of another instance gets 404
``ORDER_NOT_FOUND`` for it, exactly as for an order that does not exist, so that a caller learns
nothing about other sites' orders.
"""

from __future__ import annotations

import copy
import hmac
import math
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard
from urllib.parse import urlsplit

from infra.wix_sandbox import errors
from infra.wix_sandbox.clock import Clock, iso_timestamp
from infra.wix_sandbox.errors import WixApiError, application_error, validation_error
from infra.wix_sandbox.stats import Stats
from infra.wix_sandbox.tracking import known_tracking_link

APPROVED: Final = "APPROVED"
ORDER_STATUSES: Final = frozenset({"INITIALIZED", "APPROVED", "CANCELED", "PENDING", "REJECTED"})
NOT_FULFILLED: Final = "NOT_FULFILLED"
PARTIALLY_FULFILLED: Final = "PARTIALLY_FULFILLED"
FULFILLED: Final = "FULFILLED"

MAX_FULFILLMENT_LINE_ITEMS: Final = 300
MAX_QUANTITY: Final = 100_000
MAX_ORDER_IDS_PER_LIST: Final = 100
MAX_ORDERS_PER_BULK: Final = 100
MAX_TRACKING_FIELD_LENGTH: Final = 100
MAX_TRACKING_LINK_LENGTH: Final = 2048
MAX_LINE_ITEM_ID_LENGTH: Final = 100
ACCESS_TOKEN_PREFIX: Final = "OauthNG.JWS."  # noqa: S105 (how Wix's access tokens start)

_GUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


@dataclass(frozen=True, slots=True)
class _LineItem:
    id: str
    quantity: int
    shippable: bool


@dataclass(slots=True)
class _Order:
    instance_id: str
    document: dict[str, Any]  # the Wix Order object, as a webhook carries it
    line_items: dict[str, _LineItem]
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

    def with_fulfillments(self) -> dict[str, Any]:
        return {"orderId": self.id, "fulfillments": copy.deepcopy(self.fulfillments)}


@dataclass(frozen=True, slots=True)
class _FulfillmentRequest:
    """A fulfillment as asked for, checked for shape only (not yet against the order)."""

    field: str
    line_items: tuple[tuple[str, int | None], ...]
    tracking_info: dict[str, str] | None
    custom_info: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class _Token:
    instance_id: str
    expires_at: float


def fulfillment_status(line_items: Mapping[str, _LineItem], fulfilled: Mapping[str, int]) -> str:
    """Recomputed from the shippable line items, the ones that need a fulfillment.

    Wix fulfils orders without anything to ship automatically (the digital order of its Order
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


def is_guid(value: object) -> bool:
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


class SandboxState:
    """All of the sandbox's data behind one lock; each public method is one atomic Wix operation."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        token_lifetime_seconds: float,
        stats: Stats,
        clock: Clock = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self.token_lifetime_seconds = token_lifetime_seconds
        self._stats = stats
        self._clock = clock
        self._lock = threading.RLock()
        self._sites: set[str] = set()
        self._orders: dict[str, _Order] = {}
        self._tokens: dict[str, _Token] = {}

    # --- OAuth ------------------------------------------------------------------------------

    def issue_token(self, request: object) -> dict[str, Any]:
        """``POST /oauth2/token`` with the client credentials grant."""
        body = _object(request, "body")
        for name in ("grant_type", "client_id", "client_secret", "instance_id"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise validation_error(name, "required string")
        if body["grant_type"] != "client_credentials":
            raise application_error(
                400, errors.UNSUPPORTED_GRANT_TYPE, "grant_type must be 'client_credentials'"
            )
        if body["client_id"] != self.app_id or not hmac.compare_digest(
            body["client_secret"].encode(), self._app_secret.encode()
        ):
            raise application_error(
                401, errors.INVALID_CLIENT, "invalid client_id or client_secret"
            )
        with self._lock:
            if body["instance_id"] not in self._sites:
                raise application_error(
                    400, errors.APP_NOT_INSTALLED, "the app is not installed on this instance"
                )
            token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(48)
            self._tokens[token] = _Token(
                body["instance_id"], self._clock() + self.token_lifetime_seconds
            )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": math.ceil(self.token_lifetime_seconds),
        }

    def authenticate(self, authorization: str | None) -> str:
        """The instance whose token is in ``Authorization`` (raw, as Wix expects: no "Bearer")."""
        if not authorization:
            raise _unauthenticated("missing Authorization header (send the access token)")
        with self._lock:
            token = self._tokens.get(authorization)
        if token is None:
            if authorization.lower().startswith("bearer "):
                raise _unauthenticated(
                    "send the raw access token in Authorization, without a 'Bearer' prefix"
                )
            raise _unauthenticated("unknown access token")
        if token.expires_at <= self._clock():
            raise _unauthenticated("the access token has expired: request a new one")
        return token.instance_id

    def instance_of_token(self, authorization: str | None) -> str | None:
        """The instance a token belongs to, expired or not, without judging it (None when
        unknown). Expired tokens are kept for this: a client that goes on with one is still
        calling for its site."""
        with self._lock:
            token = self._tokens.get(authorization or "")
        return token.instance_id if token is not None else None

    def expire_tokens(self, instance_id: str | None = None) -> int:
        """Make tokens expire now (all, or one instance's), to exercise a client's renewal;
        returns how many were still valid."""
        now = self._clock()
        with self._lock:
            valid = [
                (token, record)
                for token, record in self._tokens.items()
                if record.expires_at > now and instance_id in (None, record.instance_id)
            ]
            for token, record in valid:
                self._tokens[token] = _Token(record.instance_id, now)
            return len(valid)

    # --- sites and orders (control API) -----------------------------------------------------

    def create_site(self, instance_id: str | None = None) -> str:
        instance_id = instance_id or str(uuid.uuid4())
        if not is_guid(instance_id):
            raise validation_error("instanceId", "must be a GUID")
        with self._lock:
            if instance_id in self._sites:
                raise application_error(409, errors.CONFLICT, "the site already exists")
            self._sites.add(instance_id)
        return instance_id

    def sites(self) -> list[str]:
        with self._lock:
            return sorted(self._sites)

    def add_order(
        self, instance_id: object, order: object, prefulfilled: object = None
    ) -> dict[str, Any]:
        """Store a Wix order for a site; ``prefulfilled`` lists ``{id, quantity}`` already shipped.

        The order's ``fulfillmentStatus`` is recomputed, as Wix would; ``status`` defaults to
        APPROVED. Returns the stored order.
        """
        if not isinstance(instance_id, str):
            raise validation_error("instanceId", "required string")
        document = copy.deepcopy(dict(_object(order, "order")))
        document.setdefault("id", str(uuid.uuid4()))
        document.setdefault("status", APPROVED)
        if not is_guid(document["id"]):
            raise validation_error("order.id", "must be a GUID")
        if document["status"] not in ORDER_STATUSES:
            raise validation_error("order.status", f"one of {', '.join(sorted(ORDER_STATUSES))}")
        stored = _Order(instance_id, document, _order_line_items(document.get("lineItems")))
        with self._lock:
            if instance_id not in self._sites:
                raise application_error(404, errors.NOT_FOUND, "no such site (instanceId)")
            if stored.id in self._orders:
                raise application_error(409, errors.CONFLICT, "an order with this id exists")
            if prefulfilled is not None:
                request = _fulfillment_request(
                    {
                        "lineItems": prefulfilled,
                        "trackingInfo": {
                            "trackingNumber": "PREFULFILLED",
                            "shippingProvider": "ups",
                        },
                    },
                    "prefulfilled",
                )
                stored.fulfillments.append(_fulfill(stored, request, Counter()))
            document["fulfillmentStatus"] = fulfillment_status(
                stored.line_items, stored.fulfilled_quantities()
            )
            self._orders[stored.id] = stored
            return copy.deepcopy(document)

    def set_order_status(self, order_id: str, status: object) -> dict[str, Any]:
        if status not in ORDER_STATUSES:
            raise validation_error("status", f"one of {', '.join(sorted(ORDER_STATUSES))}")
        with self._lock:
            order = self._order(order_id)
            order.document["status"] = status
            order.document["updatedDate"] = iso_timestamp()
            return copy.deepcopy(order.document)

    def order_view(self, order_id: str) -> dict[str, Any]:
        """The order as stored, with its fulfillments (for inspection, any instance)."""
        with self._lock:
            order = self._order(order_id)
            return {
                "instanceId": order.instance_id,
                "order": copy.deepcopy(order.document),
                "fulfillments": copy.deepcopy(order.fulfillments),
            }

    def order_owner(self, order_id: str) -> tuple[str, dict[str, Any]]:
        with self._lock:
            order = self._order(order_id)
            return order.instance_id, copy.deepcopy(order.document)

    def order_summaries(self, instance_id: str | None = None) -> list[dict[str, Any]]:
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
        with self._lock:
            self._sites.clear()
            self._orders.clear()
            self._tokens.clear()

    # --- the Order Fulfillments API ---------------------------------------------------------

    def create_fulfillment(self, instance_id: str, order_id: str, body: object) -> dict[str, Any]:
        """Create one fulfillment; ``orderId`` in the body (as the SDK sends) yields to the path."""
        _require_guid(order_id, "orderId")
        request = _fulfillment_request(_object(body, "body").get("fulfillment"), "fulfillment")
        with self._lock:
            order = self._visible_order(instance_id, order_id)
            fulfillment = self._fulfill_counted(order, request, Counter())
            order.fulfillments.append(fulfillment)
            _refresh_fulfillment_status(order)
            self._stats.add("fulfillmentsCreated")
            return {
                "orderWithFulfillments": order.with_fulfillments(),
                "fulfillmentId": fulfillment["id"],
            }

    def list_fulfillments(self, instance_id: str, order_id: str) -> dict[str, Any]:
        _require_guid(order_id, "orderId")
        with self._lock:
            return {
                "orderWithFulfillments": self._visible_order(
                    instance_id, order_id
                ).with_fulfillments()
            }

    def list_by_ids(self, instance_id: str, body: object) -> dict[str, Any]:
        """Orders the caller cannot see (unknown, or another site's) are left out of the answer."""
        order_ids = _object(body, "body").get("orderIds")
        if not isinstance(order_ids, list) or not 1 <= len(order_ids) <= MAX_ORDER_IDS_PER_LIST:
            raise validation_error("orderIds", f"must list 1 to {MAX_ORDER_IDS_PER_LIST} order ids")
        for index, order_id in enumerate(order_ids):
            _require_guid(order_id, f"orderIds[{index}]")
        with self._lock:
            visible = (self._orders.get(order_id) for order_id in dict.fromkeys(order_ids))
            return {
                "ordersWithFulfillments": [
                    order.with_fulfillments()
                    for order in visible
                    if order is not None and order.instance_id == instance_id
                ]
            }

    def bulk_create(self, instance_id: str, body: object) -> dict[str, Any]:
        """Each order succeeds or fails on its own, all of its fulfillments or none of them."""
        entries = _object(body, "body").get("ordersWithFulfillments")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ORDERS_PER_BULK:
            raise validation_error(
                "ordersWithFulfillments", f"must list 1 to {MAX_ORDERS_PER_BULK} orders"
            )
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
                _refresh_fulfillment_status(order)
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
        """Only ``trackingInfo`` and ``customInfo`` change; a fulfillment's line items do not."""
        _require_guid(fulfillment_id, "fulfillmentId")
        _require_guid(order_id, "orderId")
        changes = _object(_object(body, "body").get("fulfillment"), "fulfillment")
        tracking, custom = changes.get("trackingInfo"), changes.get("customInfo")
        if tracking is not None and custom is not None:
            raise validation_error("fulfillment", "set trackingInfo or customInfo, not both")
        with self._lock:
            order = self._visible_order(instance_id, order_id)
            fulfillment = _find_fulfillment(order, fulfillment_id)
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
            if tracking is not None:
                fulfillment["trackingInfo"] = _tracking_info(tracking, "fulfillment.trackingInfo")
                fulfillment.pop("customInfo", None)
            elif custom is not None:
                fulfillment["customInfo"] = copy.deepcopy(
                    dict(_object(custom, "fulfillment.customInfo"))
                )
                fulfillment.pop("trackingInfo", None)
            _refresh_fulfillment_status(order)
            return {"orderWithFulfillments": order.with_fulfillments()}

    def delete_fulfillment(
        self, instance_id: str, order_id: str, fulfillment_id: str
    ) -> dict[str, Any]:
        _require_guid(fulfillment_id, "fulfillmentId")
        _require_guid(order_id, "orderId")
        with self._lock:
            order = self._visible_order(instance_id, order_id)
            order.fulfillments.remove(_find_fulfillment(order, fulfillment_id))
            _refresh_fulfillment_status(order)
            return {"orderWithFulfillments": order.with_fulfillments()}

    # --- helpers ----------------------------------------------------------------------------

    def _bulk_entry(
        self, instance_id: str, entry: object, index: int
    ) -> tuple[_Order, list[dict[str, Any]]]:
        where = f"ordersWithFulfillments[{index}]"
        item = _object(entry, where)
        order_id = item.get("orderId")
        _require_guid(order_id, f"{where}.orderId")
        raw_fulfillments = item.get("fulfillments")
        if not isinstance(raw_fulfillments, list) or not raw_fulfillments:
            raise validation_error(f"{where}.fulfillments", "must list at least 1 fulfillment")
        requests = [
            _fulfillment_request(raw, f"{where}.fulfillments[{position}]")
            for position, raw in enumerate(raw_fulfillments)
        ]
        order = self._visible_order(instance_id, str(order_id))
        reserved: Counter[str] = Counter()
        return order, [self._fulfill_counted(order, request, reserved) for request in requests]

    def _fulfill_counted(
        self, order: _Order, request: _FulfillmentRequest, reserved: Counter[str]
    ) -> dict[str, Any]:
        """``_fulfill``, counting in the stats a request that asked for more than remains."""
        try:
            return _fulfill(order, request, reserved)
        except WixApiError as error:
            if error.code == errors.FULFILLMENT_QUANTITY_EXCEEDED:
                self._stats.add("rejectedOverFulfillments")
            raise

    def _order(self, order_id: str) -> _Order:
        order = self._orders.get(order_id)
        if order is None:
            raise application_error(404, errors.ORDER_NOT_FOUND, "order not found")
        return order

    def _visible_order(self, instance_id: str, order_id: str) -> _Order:
        order = self._orders.get(order_id)
        if order is None or order.instance_id != instance_id:
            raise application_error(404, errors.ORDER_NOT_FOUND, "order not found")
        return order


def _fulfillment_request(raw: object, where: str) -> _FulfillmentRequest:
    fulfillment = _object(raw, where)
    line_items = fulfillment.get("lineItems")
    if not isinstance(line_items, list) or not line_items:
        raise validation_error(f"{where}.lineItems", "must list at least 1 line item")
    if len(line_items) > MAX_FULFILLMENT_LINE_ITEMS:
        raise validation_error(
            f"{where}.lineItems", f"at most {MAX_FULFILLMENT_LINE_ITEMS} line items per fulfillment"
        )
    parsed: dict[str, int | None] = {}
    for index, raw_item in enumerate(line_items):
        item = _object(raw_item, f"{where}.lineItems[{index}]")
        item_id, quantity = item.get("id"), item.get("quantity")
        if not isinstance(item_id, str) or not 1 <= len(item_id) <= MAX_LINE_ITEM_ID_LENGTH:
            raise validation_error(f"{where}.lineItems[{index}].id", "required line item id")
        if quantity is not None and not _whole_number(quantity, 1, MAX_QUANTITY):
            raise validation_error(
                f"{where}.lineItems[{index}].quantity",
                f"must be a whole number from 1 to {MAX_QUANTITY}",
            )
        if item_id in parsed:
            raise validation_error(
                f"{where}.lineItems[{index}].id", "appears more than once in this fulfillment"
            )
        parsed[item_id] = quantity
    tracking, custom = fulfillment.get("trackingInfo"), fulfillment.get("customInfo")
    if tracking is not None and custom is not None:
        raise validation_error(where, "set trackingInfo or customInfo, not both")
    return _FulfillmentRequest(
        field=where,
        line_items=tuple(parsed.items()),
        tracking_info=None
        if tracking is None
        else _tracking_info(tracking, f"{where}.trackingInfo"),
        custom_info=None
        if custom is None
        else copy.deepcopy(dict(_object(custom, f"{where}.customInfo"))),
    )


def _tracking_info(raw: object, where: str) -> dict[str, str]:
    """Wix's limits; the link is filled in for the carriers Wix knows and required for others."""
    tracking = _object(raw, where)
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


def _tracking_text(value: object, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TRACKING_FIELD_LENGTH:
        raise validation_error(where, f"required, 1 to {MAX_TRACKING_FIELD_LENGTH} characters")
    return value


def _fulfill(order: _Order, request: _FulfillmentRequest, reserved: Counter[str]) -> dict[str, Any]:
    """Check a request against the order and make the fulfillment; ``reserved`` holds what other
    fulfillments of the same bulk entry already take."""
    status = order.document.get("status")
    if status != APPROVED:
        raise application_error(
            400,
            errors.ORDER_NOT_APPROVED,
            f"fulfillments can be created only for APPROVED orders; this order is {status}",
        )
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


def _refresh_fulfillment_status(order: _Order) -> None:
    order.document["fulfillmentStatus"] = fulfillment_status(
        order.line_items, order.fulfilled_quantities()
    )
    order.document["updatedDate"] = iso_timestamp()


def _find_fulfillment(order: _Order, fulfillment_id: str) -> dict[str, Any]:
    for fulfillment in order.fulfillments:
        if fulfillment["id"] == fulfillment_id:
            return fulfillment
    raise application_error(404, errors.FULFILLMENT_NOT_FOUND, "fulfillment not found")


def _order_line_items(raw: object) -> dict[str, _LineItem]:
    if not isinstance(raw, list) or not raw:
        raise validation_error("order.lineItems", "must list at least 1 line item")
    line_items: dict[str, _LineItem] = {}
    for index, raw_item in enumerate(raw):
        item = _object(raw_item, f"order.lineItems[{index}]")
        item_id, quantity = item.get("id"), item.get("quantity")
        if not isinstance(item_id, str) or not 1 <= len(item_id) <= MAX_LINE_ITEM_ID_LENGTH:
            raise validation_error(f"order.lineItems[{index}].id", "required line item id")
        if item_id in line_items:
            raise validation_error(f"order.lineItems[{index}].id", "line item ids must be unique")
        if not _whole_number(quantity, 1, MAX_QUANTITY):
            raise validation_error(
                f"order.lineItems[{index}].quantity", f"a whole number from 1 to {MAX_QUANTITY}"
            )
        physical = item.get("physicalProperties")
        shippable = isinstance(physical, Mapping) and physical.get("shippable") is True
        line_items[item_id] = _LineItem(item_id, quantity, shippable)
    return line_items


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise validation_error(where, "required object")
    return value


def _whole_number(value: object, low: int, high: int) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _require_guid(value: object, where: str) -> None:
    if not is_guid(value):
        raise validation_error(where, "must be a GUID")


def _is_web_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > MAX_TRACKING_LINK_LENGTH:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _unauthenticated(description: str) -> WixApiError:
    return application_error(401, errors.UNAUTHENTICATED, description)
