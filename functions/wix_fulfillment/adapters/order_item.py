"""The stored order item, in DynamoDB's typed JSON: its key, its attributes, and the one
encoding and decoding of the order projection. Pure, so the webhook (DynamoDBLite), the worker
(boto3 and stream images) and the operator view all read and write the same shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from wix_fulfillment.core.model import ApprovedOrder, LineItem, OrderCanceled, OrderPaid
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

KEY: Final = "pk"
STATUS: Final = "status"
REDRIVE_MARKER: Final = "redriveRequestedAt"
"""Set by a redrive; its arrival is what the stream filter matches, and every outcome removes it."""
BEFORE_CREATE: Final = "fulfillmentIdsBeforeCreate"
"""The order's fulfillment ids at Wix, written just before each create: what tells a later run
that fulfillments beyond them are this project's (FULFILLED), not someone else's (SKIPPED), even
when the worker died between the create and its record."""
PAYMENT_NOTICED: Final = "paymentNoticedAt"
"""When Wix's payment event reached a PENDING order: a worker that read Wix before it may have
read an unpaid order that is paid now, so it must not park the order as AWAITING_PAYMENT."""
NEW_ORDER_CONDITION: Final = f"attribute_not_exists({KEY})"
CONDITIONAL_CHECK_FAILED: Final = "ConditionalCheckFailedException"
_NOT_SHOWN: Final = frozenset({KEY})


def order_key(instance_id: str, order_id: str) -> str:
    """One item per (site instance, order): the order, not the event, is what must be unique."""
    return f"ORDER#{instance_id}#{order_id}"


def timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def new_order_item(
    order: ApprovedOrder, received_at: datetime, retention: timedelta
) -> dict[str, AttributeValueTypeDef]:
    """The item intake writes: the order's projection, PENDING, with its expiry (TTL)."""
    received = timestamp(received_at)
    item: dict[str, AttributeValueTypeDef] = {
        KEY: {"S": order_key(order.instance_id, order.order_id)},
        "instanceId": {"S": order.instance_id},
        "orderId": {"S": order.order_id},
        "eventId": {"S": order.event_id},
        "lineItems": {"L": [{"M": _line_attributes(line)} for line in order.line_items]},
        STATUS: {"S": OrderStatus.PENDING},
        "attempts": {"N": "0"},
        "receivedAt": {"S": received},
        "updatedAt": {"S": received},
        "expiresAt": {"N": str(int((received_at + retention).timestamp()))},
    }
    if order.order_number is not None:
        item["orderNumber"] = {"S": order.order_number}
    if order.event_time is not None:
        item["eventTime"] = {"S": order.event_time}
    if order.payment_status is not None:
        item["paymentStatus"] = {"S": order.payment_status}
    if order.pickup:
        item["pickup"] = {"BOOL": True}
    return item


def cancel_update(
    event: OrderCanceled, received_at: datetime, retention: timedelta
) -> dict[str, Any]:
    """UpdateItem: CANCELED unless settled. An order not stored yet gets a tombstone (no line
    items, the same expiry as an order), so its late approval is a duplicate and stores nothing."""
    received = timestamp(received_at)
    return {
        "Key": {KEY: {"S": order_key(event.instance_id, event.order_id)}},
        "UpdateExpression": (
            "SET #status = :canceled, statusReason = :reason, updatedAt = :now, "
            "instanceId = :instance, orderId = :order, canceledEventId = :event, "
            "receivedAt = if_not_exists(receivedAt, :now), "
            "expiresAt = if_not_exists(expiresAt, :expires) "
            f"REMOVE {REDRIVE_MARKER}"
        ),
        "ConditionExpression": (f"attribute_not_exists({KEY}) OR #status IN (:pending, :awaiting)"),
        "ExpressionAttributeNames": {"#status": STATUS},
        "ExpressionAttributeValues": {
            ":canceled": {"S": OrderStatus.CANCELED},
            ":reason": {"S": "canceled at Wix (order canceled event)"},
            ":now": {"S": received},
            ":instance": {"S": event.instance_id},
            ":order": {"S": event.order_id},
            ":event": {"S": event.event_id},
            ":expires": {"N": str(int((received_at + retention).timestamp()))},
            ":pending": {"S": OrderStatus.PENDING},
            ":awaiting": {"S": OrderStatus.AWAITING_PAYMENT},
        },
    }


def payment_update(
    event: OrderPaid, received_at: datetime, *, found: bool = False
) -> dict[str, Any]:
    """UpdateItem: a waiting or pending order is (again) PENDING and paid; the stream filter
    matches AWAITING_PAYMENT -> PENDING only, so an order in flight is not sent twice.

    ``found``: the sweep's, which sees the payment of every unfulfilled order in its window,
    sweep after sweep. A pending order is noted only once, and only when stored unpaid (a worker
    may have read Wix before the payment); touching it each time would put off its redrive."""
    condition = "#status IN (:pending, :awaiting)"
    if found:
        condition = (
            "#status = :awaiting OR (#status = :pending"
            f" AND attribute_not_exists({PAYMENT_NOTICED})"
            " AND (attribute_not_exists(paymentStatus) OR paymentStatus <> :paid))"
        )
    return {
        "Key": {KEY: {"S": order_key(event.instance_id, event.order_id)}},
        "UpdateExpression": (
            f"SET #status = :pending, paymentStatus = :paid, {PAYMENT_NOTICED} = :now, "
            "updatedAt = :now"
        ),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#status": STATUS},
        "ExpressionAttributeValues": {
            ":pending": {"S": OrderStatus.PENDING},
            ":awaiting": {"S": OrderStatus.AWAITING_PAYMENT},
            ":paid": {"S": event.payment_status},
            ":now": {"S": timestamp(received_at)},
        },
    }


def _line_attributes(line: LineItem) -> dict[str, AttributeValueTypeDef]:
    attributes: dict[str, AttributeValueTypeDef] = {
        "id": {"S": line.id},
        "quantity": {"N": str(line.quantity)},
        "shippable": {"BOOL": line.shippable},
        "itemType": {"S": line.item_type},
    }
    if line.fulfiller_id is not None:
        attributes["fulfillerId"] = {"S": line.fulfiller_id}
    if line.refunded_quantity:
        attributes["refundQuantity"] = {"N": str(line.refunded_quantity)}
    return attributes


def order_from_item(item: Mapping[str, Any]) -> ApprovedOrder:
    """The stored order from an item or a stream record's image."""
    try:
        return ApprovedOrder(
            instance_id=item["instanceId"]["S"],
            order_id=item["orderId"]["S"],
            event_id=item["eventId"]["S"],
            order_number=item.get("orderNumber", {}).get("S"),
            event_time=item.get("eventTime", {}).get("S"),
            line_items=tuple(_line_item(line["M"]) for line in item["lineItems"]["L"]),
            payment_status=item.get("paymentStatus", {}).get("S"),
            pickup=bool(item.get("pickup", {}).get("BOOL", False)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not an order item: {type(error).__name__} {error}") from error


def _line_item(line: Mapping[str, Any]) -> LineItem:
    return LineItem(
        id=line["id"]["S"],
        quantity=int(line["quantity"]["N"]),
        shippable=bool(line["shippable"]["BOOL"]),
        item_type=line["itemType"]["S"],
        fulfiller_id=line.get("fulfillerId", {}).get("S"),
        refunded_quantity=int(line.get("refundQuantity", {}).get("N", "0")),
    )


def plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as plain JSON for an operator, without its key, attributes sorted."""
    return {name: _plain(item[name]) for name in sorted(item) if name not in _NOT_SHOWN}


def strings(values: Sequence[str]) -> AttributeValueTypeDef:
    return {"L": [{"S": value} for value in values]}


def _plain(value: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as JSON (the types the table uses)."""
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "L" in value:
        return [_plain(entry) for entry in value["L"]]
    if "M" in value:
        return {name: _plain(entry) for name, entry in value["M"].items()}
    if "BOOL" in value:
        return value["BOOL"]
    return None
