"""Parse and validate Wix's order events (approved, canceled, payment status updated); project the
order to what fulfillment needs.

Wix nests JSON inside strings: the verified JWT's ``data`` claim is a JSON string whose own ``data``
field is another JSON string, the event envelope. Only the compact projection of the order leaves
this module: the full payload carries buyer PII and can exceed DynamoDB's 400 KB item limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final, TypeGuard

from wix_fulfillment.core.model import (
    ApprovedOrder,
    IgnoredEvent,
    LineItem,
    OrderCanceled,
    OrderEvent,
    OrderNow,
    OrderPaid,
)

ORDER_APPROVED_EVENT_TYPE: Final = "wix.ecom.v1.order_approved"
ORDER_CANCELED_EVENT_TYPE: Final = "wix.ecom.v1.order_canceled"
PAYMENT_STATUS_UPDATED_EVENT_TYPE: Final = "wix.ecom.v1.order_payment_status_updated"
ORDER_EVENT_TYPES: Final = frozenset(
    {ORDER_APPROVED_EVENT_TYPE, ORDER_CANCELED_EVENT_TYPE, PAYMENT_STATUS_UPDATED_EVENT_TYPE}
)
APP_INSTALLED_EVENT_TYPE: Final = "AppInstalled"
APP_REMOVED_EVENT_TYPE: Final = "AppRemoved"
APP_INSTANCE_EVENT_TYPES: Final = frozenset({APP_INSTALLED_EVENT_TYPE, APP_REMOVED_EVENT_TYPE})
"""App Instance Installed and Removed (``app_instance``), on the same route."""
ORDER_ENTITY_FQDN: Final = "wix.ecom.v1.order"
APPROVED_SLUG: Final = "approved"
MAX_LINE_ITEMS: Final = 300
MAX_LINE_ITEM_QUANTITY: Final = 100_000
MAX_LINE_ITEM_ID_LENGTH: Final = 100
MAX_ITEM_TYPE_LENGTH: Final = 100
MAX_TEXT_LENGTH: Final = 64
UNRECOGNISED_ITEM_TYPE: Final = "UNRECOGNISED"
CUSTOM_ITEM_TYPE_PREFIX: Final = "custom:"

_GUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_PRINTABLE_ID: Final = re.compile(r"[!-~]+")
_NOT_TEXT: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters and lone surrogates: in no value Wix sends, and not storable as UTF-8."""


class MalformedEvent(ValueError):
    """A verified webhook whose content is not a well-formed Wix event (answered with 400).

    Messages name the offending field but never echo its value: values may be buyer data.
    """


def parse_webhook_claims(claims: Mapping[str, Any]) -> OrderEvent | IgnoredEvent:
    """Turn the verified JWT claims into an order event to apply, or a reason to ignore it."""
    data = claims.get("data")
    if not isinstance(data, str):
        raise MalformedEvent("the token's 'data' claim must be a string")
    webhook = _json_object(data, "the token's 'data' claim")
    event_type = webhook.get("eventType")
    if not isinstance(event_type, str):
        raise MalformedEvent("'eventType' must be a string")
    if event_type not in ORDER_EVENT_TYPES:
        return IgnoredEvent(event_type, "not an order event this app acts on")
    instance_id = guid(webhook.get("instanceId"), "instanceId")
    inner_data = webhook.get("data")
    if not isinstance(inner_data, str):
        raise MalformedEvent("'data' must be a string holding the event envelope")
    envelope = _json_object(inner_data, "the event envelope")
    anonymize = envelope.get("triggeredByAnonymizeRequest")
    if anonymize is not None and not isinstance(anonymize, bool):
        raise MalformedEvent("'triggeredByAnonymizeRequest' must be true or false")
    if anonymize:
        return IgnoredEvent(event_type, "triggered by an anonymize request")
    event_id, order = _event_order(envelope)
    if event_type == ORDER_CANCELED_EVENT_TYPE:
        return OrderCanceled(instance_id, order["id"], event_id)
    if event_type == PAYMENT_STATUS_UPDATED_EVENT_TYPE:
        status = _optional_name(order.get("paymentStatus"), "paymentStatus")
        if not status:
            raise MalformedEvent("'actionEvent.body.order.paymentStatus' must be a string")
        return OrderPaid(instance_id, order["id"], event_id, status)
    if envelope.get("slug") != APPROVED_SLUG:
        raise MalformedEvent(f"'slug' must be {APPROVED_SLUG!r}")
    return ApprovedOrder(
        instance_id=instance_id,
        order_id=order["id"],
        event_id=event_id,
        order_number=optional_text(order.get("number"), "order number"),
        event_time=optional_text(envelope.get("eventTime"), "eventTime"),
        line_items=_line_items(order.get("lineItems")),
        payment_status=_optional_name(order.get("paymentStatus"), "paymentStatus"),
        pickup=_is_pickup(order),
    )


def _event_order(envelope: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The event id and the order of an order event's envelope (``actionEvent.body.order``)."""
    event_id = guid(envelope.get("id"), "id")
    if envelope.get("entityFqdn") != ORDER_ENTITY_FQDN:
        raise MalformedEvent(f"'entityFqdn' must be {ORDER_ENTITY_FQDN!r}")
    entity_id = guid(envelope.get("entityId"), "entityId")
    order = _mapping(
        _mapping(envelope.get("actionEvent"), "actionEvent").get("body"), "actionEvent.body"
    )
    order = _mapping(order.get("order"), "actionEvent.body.order")
    if order.get("id") != entity_id:
        raise MalformedEvent("'entityId' must equal 'actionEvent.body.order.id'")
    return event_id, order


def order_now(order: object) -> OrderNow:
    """An order as Wix's Orders API returns it, projected like the webhook's (no buyer data)."""
    order = _mapping(order, "order")
    order_id = guid(order.get("id"), "id")
    status = _optional_name(order.get("status"), "status")
    if not status:
        raise MalformedEvent("'status' must be a non-empty string")
    return OrderNow(
        order_id=order_id,
        status=status,
        payment_status=_optional_name(order.get("paymentStatus"), "paymentStatus"),
        pickup=_is_pickup(order),
        line_items=_line_items(order.get("lineItems")),
    )


def _is_pickup(order: Mapping[str, Any]) -> bool:
    """``shippingInfo.logistics.pickupDetails`` set: the buyer collects the order."""
    shipping = order.get("shippingInfo")
    if shipping is None:
        return False
    logistics = _mapping(shipping, "shippingInfo").get("logistics")
    if logistics is None:
        return False
    pickup = _mapping(logistics, "shippingInfo.logistics").get("pickupDetails")
    if pickup is None:
        return False
    _mapping(pickup, "shippingInfo.logistics.pickupDetails")
    return True


def _line_items(value: object) -> tuple[LineItem, ...]:
    if not isinstance(value, list) or not value:
        raise MalformedEvent("'lineItems' must be a non-empty list")
    if len(value) > MAX_LINE_ITEMS:
        raise MalformedEvent(f"an order has at most {MAX_LINE_ITEMS} line items")
    items = tuple(_line_item(raw, index) for index, raw in enumerate(value))
    if len({item.id for item in items}) != len(items):
        raise MalformedEvent("line item ids must be unique")
    return items


def _line_item(raw: object, index: int) -> LineItem:
    where = f"lineItems[{index}]"
    item = _mapping(raw, where)
    item_id = item.get("id")
    if (
        not isinstance(item_id, str)
        or len(item_id) > MAX_LINE_ITEM_ID_LENGTH
        or not _PRINTABLE_ID.fullmatch(item_id)
    ):
        raise MalformedEvent(f"{where}.id must be a printable id of at most 100 characters")
    quantity = item.get("quantity")
    if not _whole_number(quantity) or not 1 <= quantity <= MAX_LINE_ITEM_QUANTITY:
        raise MalformedEvent(f"{where}.quantity must be a whole number from 1 to 100000")
    refunded = item.get("refundQuantity")
    if refunded is None:
        refunded = 0
    elif not _whole_number(refunded) or not 0 <= refunded <= quantity:
        raise MalformedEvent(f"{where}.refundQuantity must be a whole number from 0 to quantity")
    return LineItem(
        id=item_id,
        quantity=quantity,
        shippable=_shippable(item, where),
        item_type=_item_type(item, where),
        fulfiller_id=_optional_name(item.get("fulfillerId"), f"{where}.fulfillerId") or None,
        refunded_quantity=refunded,
    )


def _shippable(item: Mapping[str, Any], where: str) -> bool:
    """Absent means not shippable (digital items have no physical properties), but a value of
    the wrong type is refused: read as "not shippable", it would skip a shipment silently."""
    physical = item.get("physicalProperties")
    if physical is None:
        return False
    shippable = _mapping(physical, f"{where}.physicalProperties").get("shippable")
    if shippable is None:
        return False
    if not isinstance(shippable, bool):
        raise MalformedEvent(f"{where}.physicalProperties.shippable must be true or false")
    return shippable


def _item_type(item: Mapping[str, Any], where: str) -> str:
    item_type = item.get("itemType")
    if item_type is None:
        return UNRECOGNISED_ITEM_TYPE
    item_type = _mapping(item_type, f"{where}.itemType")
    preset = _optional_name(item_type.get("preset"), f"{where}.itemType.preset")
    if preset:
        return preset
    custom = _optional_name(item_type.get("custom"), f"{where}.itemType.custom")
    if custom:
        return CUSTOM_ITEM_TYPE_PREFIX + custom
    return UNRECOGNISED_ITEM_TYPE


def _optional_name(value: object, what: str) -> str | None:
    if value is None or (isinstance(value, str) and _is_text(value, MAX_ITEM_TYPE_LENGTH)):
        return value
    raise MalformedEvent(f"{what} must be a string of at most {MAX_ITEM_TYPE_LENGTH} characters")


def _whole_number(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_object(text: str, what: str) -> Mapping[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise MalformedEvent(f"{what} is not valid JSON") from error
    return _mapping(value, what)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise MalformedEvent(f"{what} must be a JSON object")
    return value


def guid(value: object, what: str) -> str:
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise MalformedEvent(f"'{what}' must be a GUID")
    return value


def optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and _is_text(value, MAX_TEXT_LENGTH):
        return value
    raise MalformedEvent(f"{what} must be a short string")


def _is_text(value: str, max_length: int) -> bool:
    """Text we may store: bounded (an item over DynamoDB's 400 KB would be a 5xx, and Wix's
    retries would never end) and free of what no Wix value contains."""
    return len(value) <= max_length and not _NOT_TEXT.search(value)
