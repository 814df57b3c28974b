"""The orders table in DynamoDB through boto3: the worker's and the status endpoint's reads and
writes. Intake's one write, and the stored item's shape, are in ``order_intake`` (no boto3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wix_fulfillment.adapters.order_intake import (
    WEBHOOK_CONNECT_TIMEOUT_SECONDS,
    WEBHOOK_MAX_ATTEMPTS,
    WEBHOOK_READ_TIMEOUT_SECONDS,
)
from wix_fulfillment.adapters.order_intake import OrderStoreUnavailable as OrderStoreUnavailable
from wix_fulfillment.adapters.order_intake import new_order_item as new_order_item
from wix_fulfillment.adapters.order_intake import order_key as order_key
from wix_fulfillment.core.fulfillment_run import PendingOrder, RecordingFailed
from wix_fulfillment.core.order_event import ApprovedOrder, LineItem
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesOutputTypeDef,
        KeysAndAttributesTypeDef,
    )

# The webhook's, where boto3 stands in for DynamoDBLite (order_intake.intake_table).
WEBHOOK_CLIENT_CONFIG: Final = Config(
    connect_timeout=WEBHOOK_CONNECT_TIMEOUT_SECONDS,
    read_timeout=WEBHOOK_READ_TIMEOUT_SECONDS,
    retries={"mode": "standard", "total_max_attempts": WEBHOOK_MAX_ATTEMPTS},
)
# The worker has minutes, and an unrecorded outcome costs a second round of Wix calls.
WORKER_CLIENT_CONFIG: Final = Config(
    connect_timeout=2.0,
    read_timeout=5.0,
    retries={"mode": "standard", "total_max_attempts": 5},
)
_CONDITIONAL_CHECK_FAILED: Final = "ConditionalCheckFailedException"
MAX_KEYS_PER_BATCH_GET: Final = 100
_NOT_SHOWN: Final = frozenset({"pk"})
BEFORE_LOST_CREATE: Final = "fulfillmentIdsBeforeLostCreate"
"""The order's fulfillment ids at Wix before a create whose answer was lost: what tells the next
run that fulfillments beyond them are its own (FULFILLED), not someone else's (SKIPPED)."""


def dynamodb_client(config: Config) -> DynamoDBClient:
    """A client for the table; honours ``AWS_ENDPOINT_URL_DYNAMODB`` (DynamoDB Local)."""
    return boto3.client("dynamodb", config=config)


class OrdersTable:
    """Intake's conditional write through boto3, where ``order_intake.IntakeTable`` cannot be
    used (credentials from outside the environment)."""

    def __init__(self, client: DynamoDBClient, table_name: str, retention: timedelta) -> None:
        self._client = client
        self._table_name = table_name
        self._retention = retention

    def insert_if_new(self, order: ApprovedOrder) -> bool:
        """One conditional PutItem: the first delivery stores the order, later ones are no-ops."""
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=new_order_item(order, datetime.now(UTC), self._retention),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _CONDITIONAL_CHECK_FAILED:
                return False
            raise OrderStoreUnavailable(_describe(error)) from error
        except BotoCoreError as error:
            raise OrderStoreUnavailable(_describe(error)) from error
        return True


class OrderOutcomesTable:
    """Records the fulfilment worker's outcomes: conditional updates that apply only to PENDING.

    Each update also removes the redrive marker, so the stream filter (which matches the marker's
    arrival) never matches the worker's own writes.
    """

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def record_fulfilled(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> None:
        self._settle(order, OrderStatus.FULFILLED, {"fulfillmentIds": _strings(fulfillment_ids)})

    def record_skipped(
        self, order: ApprovedOrder, reason: str, fulfillment_ids: Sequence[str]
    ) -> None:
        self._settle(
            order,
            OrderStatus.SKIPPED,
            {"fulfillmentIds": _strings(fulfillment_ids), "statusReason": {"S": reason}},
        )

    def record_rejected(self, order: ApprovedOrder, code: str, message: str) -> None:
        self._settle(
            order,
            OrderStatus.REJECTED,
            {"errorCode": {"S": code}, "lastError": {"S": message or code}},
        )

    def record_failed_attempt(
        self,
        order: ApprovedOrder,
        reason: str,
        fulfillment_ids_before_lost_create: Sequence[str] | None,
    ) -> None:
        attributes: dict[str, AttributeValueTypeDef] = {"lastError": {"S": reason}}
        if fulfillment_ids_before_lost_create is not None:
            attributes[BEFORE_LOST_CREATE] = _strings(fulfillment_ids_before_lost_create)
        self._update(order, attributes, remove=("redriveRequestedAt",))

    def pending_orders(
        self, orders: Sequence[ApprovedOrder]
    ) -> dict[tuple[str, str], PendingOrder]:
        """The orders still PENDING now (a stream image may be older than the item), with what
        an earlier run noted of a lost create. Consistent reads, 100 keys a call."""
        found: dict[tuple[str, str], PendingOrder] = {}
        by_key = {order_key(o.instance_id, o.order_id): o for o in orders}
        keys = list(by_key)
        for start in range(0, len(keys), MAX_KEYS_PER_BATCH_GET):
            request: dict[str, KeysAndAttributesTypeDef] = {
                self._table_name: {
                    "Keys": [
                        {"pk": {"S": key}} for key in keys[start : start + MAX_KEYS_PER_BATCH_GET]
                    ],
                    "ConsistentRead": True,
                    "ProjectionExpression": "pk, #status, " + BEFORE_LOST_CREATE,
                    "ExpressionAttributeNames": {"#status": "status"},
                }
            }
            for item in self._batch_get(request):
                if item["status"]["S"] != OrderStatus.PENDING:
                    continue
                order = by_key[item["pk"]["S"]]
                before = item.get(BEFORE_LOST_CREATE)
                found[(order.instance_id, order.order_id)] = PendingOrder(
                    order,
                    frozenset(value["S"] for value in before["L"]) if before else None,
                )
        return found

    def _batch_get(
        self, request: dict[str, KeysAndAttributesTypeDef]
    ) -> list[dict[str, AttributeValueTypeDef]]:
        items: list[dict[str, AttributeValueTypeDef]] = []
        try:
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                items.extend(answer["Responses"].get(self._table_name, []))
                unprocessed = answer.get("UnprocessedKeys") or {}
                request = {table: _read_options(keys) for table, keys in unprocessed.items()}
        except (BotoCoreError, ClientError) as error:
            raise OrderStoreUnavailable(_describe(error)) from error
        return items

    def _settle(
        self,
        order: ApprovedOrder,
        status: OrderStatus,
        attributes: dict[str, AttributeValueTypeDef],
    ) -> None:
        self._update(
            order,
            {"status": {"S": status}, **attributes},
            remove=("redriveRequestedAt", BEFORE_LOST_CREATE),
        )

    def _update(
        self,
        order: ApprovedOrder,
        attributes: dict[str, AttributeValueTypeDef],
        remove: Sequence[str],
    ) -> None:
        values: dict[str, AttributeValueTypeDef] = {
            ":pending": {"S": OrderStatus.PENDING},
            ":now": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
            ":one": {"N": "1"},
        }
        names = {"#status": "status"}
        assignments = ["updatedAt = :now"]
        for index, (name, value) in enumerate(attributes.items()):
            names[f"#a{index}"] = name
            values[f":a{index}"] = value
            assignments.append(f"#a{index} = :a{index}")
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={"pk": {"S": order_key(order.instance_id, order.order_id)}},
                UpdateExpression=(
                    f"SET {', '.join(assignments)} ADD attempts :one REMOVE {', '.join(remove)}"
                ),
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _CONDITIONAL_CHECK_FAILED:
                return  # already settled by an earlier delivery of the same order
            raise RecordingFailed(_describe(error)) from error
        except BotoCoreError as error:
            raise RecordingFailed(_describe(error)) from error


class OrderRecords:
    """The operator's view of an order: what the table holds of it, as plain JSON."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def record(self, instance_id: str, order_id: str) -> dict[str, Any] | None:
        try:
            item = self._client.get_item(
                TableName=self._table_name,
                Key={"pk": {"S": order_key(instance_id, order_id)}},
                ConsistentRead=True,
            ).get("Item")
        except (BotoCoreError, ClientError) as error:
            raise OrderStoreUnavailable(_describe(error)) from error
        if item is None:
            return None
        plain = {name: _plain(value) for name, value in item.items() if name not in _NOT_SHOWN}
        return dict(sorted(plain.items()))


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


def mark_for_redrive(client: DynamoDBClient, table_name: str, key: str) -> bool:
    """Send a still-PENDING order through the stream again: the stream filter matches the
    marker's arrival. A marker left by a redrive whose run died first is removed, then set again
    (two writes), since only its arrival matches. False when the order is settled or unknown."""
    if _set_redrive_marker(client, table_name, key):
        return True
    try:
        client.update_item(
            TableName=table_name,
            Key={"pk": {"S": key}},
            UpdateExpression="REMOVE redriveRequestedAt",
            ConditionExpression="#status = :pending AND attribute_exists(redriveRequestedAt)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":pending": {"S": OrderStatus.PENDING}},
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == _CONDITIONAL_CHECK_FAILED:
            return False
        raise
    return _set_redrive_marker(client, table_name, key)


def _set_redrive_marker(client: DynamoDBClient, table_name: str, key: str) -> bool:
    try:
        client.update_item(
            TableName=table_name,
            Key={"pk": {"S": key}},
            UpdateExpression="SET redriveRequestedAt = :now, updatedAt = :now",
            ConditionExpression="#status = :pending AND attribute_not_exists(redriveRequestedAt)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":pending": {"S": OrderStatus.PENDING},
                ":now": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
            },
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == _CONDITIONAL_CHECK_FAILED:
            return False
        raise
    return True


def order_from_image(image: Mapping[str, Any]) -> ApprovedOrder:
    """The stored order from a stream record's image (DynamoDB's typed JSON)."""
    try:
        return ApprovedOrder(
            instance_id=image["instanceId"]["S"],
            order_id=image["orderId"]["S"],
            event_id=image["eventId"]["S"],
            order_number=image.get("orderNumber", {}).get("S"),
            event_time=image.get("eventTime", {}).get("S"),
            line_items=tuple(
                LineItem(
                    id=line["M"]["id"]["S"],
                    quantity=int(line["M"]["quantity"]["N"]),
                    shippable=bool(line["M"]["shippable"]["BOOL"]),
                    item_type=line["M"]["itemType"]["S"],
                )
                for line in image["lineItems"]["L"]
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not an order item: {type(error).__name__} {error}") from error


def _read_options(keys: KeysAndAttributesOutputTypeDef) -> KeysAndAttributesTypeDef:
    return {
        "Keys": keys["Keys"],
        "ConsistentRead": keys.get("ConsistentRead", True),
        "ProjectionExpression": keys.get("ProjectionExpression", ""),
        "ExpressionAttributeNames": keys.get("ExpressionAttributeNames", {}),
    }


def _strings(values: Sequence[str]) -> AttributeValueTypeDef:
    return {"L": [{"S": value} for value in values]}


def _describe(error: Exception) -> str:
    """The error's class and AWS code, never request contents."""
    if isinstance(error, ClientError):
        return f"{type(error).__name__}: {error.response.get('Error', {}).get('Code', 'unknown')}"
    return type(error).__name__
