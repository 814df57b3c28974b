"""The worker's side of the orders table: which orders are still PENDING, which of their sites
the app was removed from, and the conditional updates that record each outcome.

Each update also removes the redrive marker, so the stream filter (which matches the marker's
arrival) never matches the worker's own writes.

The calls go through DynamoDBLite in Lambda (boto3 elsewhere, ``dynamodb_transport``): botocore
spent about 1.5 ms of CPU on each UpdateItem, DynamoDBLite about 0.25 ms, and with one write an
order that was most of the worker's time per order (docs/performance.md).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from wix_fulfillment.adapters.dynamodb_lite import DynamoDBError
from wix_fulfillment.adapters.intake_store import DynamoDBTransport, dynamodb_transport
from wix_fulfillment.adapters.order_item import (
    BEFORE_CREATE,
    CONDITIONAL_CHECK_FAILED,
    KEY,
    PAYMENT_NOTICED,
    REDRIVE_MARKER,
    STATUS,
    order_key,
    strings,
    timestamp,
)
from wix_fulfillment.adapters.site_item import site_key
from wix_fulfillment.core.model import (
    ApprovedOrder,
    OrderStoreUnavailable,
    PendingOrder,
    RecordingFailed,
)
from wix_fulfillment.core.order_status import OrderStatus, SiteStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, KeysAndAttributesTypeDef

MAX_KEYS_PER_BATCH_GET: Final = 100
CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 5.0
MAX_ATTEMPTS: Final = 5
"""The worker has minutes, and an unrecorded outcome costs a second round of Wix calls."""


def outcomes_transport(environ: Mapping[str, str] = os.environ) -> DynamoDBTransport:
    return dynamodb_transport(
        environ,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_attempts=MAX_ATTEMPTS,
    )


class OrderOutcomesTable:
    """Implements the core's ``OrderOutcomes``: updates that apply only while PENDING."""

    def __init__(self, transport: DynamoDBTransport, table_name: str) -> None:
        self.transport = transport
        self._table_name = table_name

    def record_fulfilled(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> None:
        self._settle(order, OrderStatus.FULFILLED, {"fulfillmentIds": strings(fulfillment_ids)})

    def record_skipped(
        self, order: ApprovedOrder, reason: str, fulfillment_ids: Sequence[str]
    ) -> None:
        self._settle(
            order,
            OrderStatus.SKIPPED,
            {"fulfillmentIds": strings(fulfillment_ids), "statusReason": {"S": reason}},
        )

    def record_rejected(self, order: ApprovedOrder, code: str, message: str) -> None:
        self._settle(
            order,
            OrderStatus.REJECTED,
            {"errorCode": {"S": code}, "lastError": {"S": message or code}},
        )

    def record_canceled(self, order: ApprovedOrder, reason: str) -> None:
        self._settle(order, OrderStatus.CANCELED, {"statusReason": {"S": reason}})

    def record_awaiting_payment(self, order: ApprovedOrder, looked_at: float) -> bool:
        payment: dict[str, AttributeValueTypeDef] = (
            {"paymentStatus": {"S": order.payment_status}} if order.payment_status else {}
        )
        return self._update(
            order,
            {STATUS: {"S": OrderStatus.AWAITING_PAYMENT}, **payment},
            remove=(REDRIVE_MARKER,),
            count=False,
            unless_paid_after=timestamp(datetime.fromtimestamp(looked_at, UTC)),
        )

    def note_before_create(self, order: ApprovedOrder, fulfillment_ids: Sequence[str]) -> bool:
        return self._update(
            order, {BEFORE_CREATE: strings(fulfillment_ids)}, remove=(), count=False
        )

    def record_failed_attempt(
        self, order: ApprovedOrder, reason: str, *, forget_ids_before_create: bool
    ) -> None:
        remove = (REDRIVE_MARKER, BEFORE_CREATE) if forget_ids_before_create else (REDRIVE_MARKER,)
        self._update(order, {"lastError": {"S": reason}}, remove=remove)

    def pending_orders(
        self, orders: Sequence[ApprovedOrder]
    ) -> dict[tuple[str, str], PendingOrder]:
        """The orders still PENDING now (a stream image may be older than the item), with what
        an earlier run noted of a lost create. Consistent reads, 100 keys a call."""
        found: dict[tuple[str, str], PendingOrder] = {}
        by_key = {order_key(o.instance_id, o.order_id): o for o in orders}
        for item in self._read(list(by_key), f"{KEY}, #status, {BEFORE_CREATE}"):
            if item[STATUS]["S"] != OrderStatus.PENDING:
                continue
            order = by_key[item[KEY]["S"]]
            before = item.get(BEFORE_CREATE)
            found[(order.instance_id, order.order_id)] = PendingOrder(
                order,
                frozenset(value["S"] for value in before["L"]) if before else None,
            )
        return found

    def removed_sites(self, instance_ids: Collection[str]) -> frozenset[str]:
        """Those of the sites whose registry item says REMOVED (a site not registered is taken
        for active): their orders can never get a token. Consistent reads, 100 sites a call."""
        keys = [site_key(instance_id) for instance_id in sorted(instance_ids)]
        return frozenset(
            item["instanceId"]["S"]
            for item in self._read(keys, "instanceId, #status")
            if item[STATUS]["S"] == SiteStatus.REMOVED
        )

    def _read(self, keys: Sequence[str], projection: str) -> list[dict[str, AttributeValueTypeDef]]:
        """The items of those keys that exist: consistent reads, 100 keys a BatchGetItem."""
        items: list[dict[str, AttributeValueTypeDef]] = []
        for start in range(0, len(keys), MAX_KEYS_PER_BATCH_GET):
            request: dict[str, KeysAndAttributesTypeDef] = {
                self._table_name: {
                    "Keys": [
                        {KEY: {"S": key}} for key in keys[start : start + MAX_KEYS_PER_BATCH_GET]
                    ],
                    "ConsistentRead": True,
                    "ProjectionExpression": projection,
                    "ExpressionAttributeNames": {"#status": STATUS},
                }
            }
            items.extend(self._batch_get(request))
        return items

    def _batch_get(
        self, request: dict[str, KeysAndAttributesTypeDef]
    ) -> list[dict[str, AttributeValueTypeDef]]:
        items: list[dict[str, AttributeValueTypeDef]] = []
        try:
            while request:
                answer = self.transport.call("BatchGetItem", {"RequestItems": request})
                items.extend(answer["Responses"].get(self._table_name, []))
                # Unprocessed keys come back with the request's options: sent again as they are.
                request = answer.get("UnprocessedKeys") or {}
        except DynamoDBError as error:
            raise OrderStoreUnavailable(f"DynamoDBError: {error.code}") from error
        return items

    def _settle(
        self,
        order: ApprovedOrder,
        status: OrderStatus,
        attributes: dict[str, AttributeValueTypeDef],
    ) -> None:
        self._update(
            order, {STATUS: {"S": status}, **attributes}, remove=(REDRIVE_MARKER, BEFORE_CREATE)
        )

    def _update(
        self,
        order: ApprovedOrder,
        attributes: dict[str, AttributeValueTypeDef],
        remove: Sequence[str],
        *,
        count: bool = True,
        unless_paid_after: str | None = None,
    ) -> bool:
        """Applies only while PENDING (False otherwise); ``count`` adds one to the attempts;
        ``unless_paid_after``: nor if Wix's payment event reached the order after that time."""
        values: dict[str, AttributeValueTypeDef] = {
            ":pending": {"S": OrderStatus.PENDING},
            ":now": {"S": timestamp(datetime.now(UTC))},
        }
        names = {"#status": STATUS}
        assignments = ["updatedAt = :now"]
        for index, (name, value) in enumerate(attributes.items()):
            names[f"#a{index}"] = name
            values[f":a{index}"] = value
            assignments.append(f"#a{index} = :a{index}")
        expression = f"SET {', '.join(assignments)}"
        if count:
            values[":one"] = {"N": "1"}
            expression += " ADD attempts :one"
        if remove:
            expression += f" REMOVE {', '.join(remove)}"
        condition = "#status = :pending"
        if unless_paid_after is not None:
            values[":looked"] = {"S": unless_paid_after}
            condition += (
                f" AND (attribute_not_exists({PAYMENT_NOTICED}) OR {PAYMENT_NOTICED} < :looked)"
            )
        try:
            self.transport.call(
                "UpdateItem",
                {
                    "TableName": self._table_name,
                    "Key": {KEY: {"S": order_key(order.instance_id, order.order_id)}},
                    "UpdateExpression": expression,
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                },
            )
        except DynamoDBError as error:
            if error.code == CONDITIONAL_CHECK_FAILED:
                return False  # already settled by an earlier delivery of the same order
            raise RecordingFailed(f"DynamoDBError: {error.code}") from error
        return True
