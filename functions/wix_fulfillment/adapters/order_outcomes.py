"""The worker's side of the orders table: which orders are still PENDING, and the conditional
updates that record each outcome.

Each update also removes the redrive marker, so the stream filter (which matches the marker's
arrival) never matches the worker's own writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError

from wix_fulfillment.adapters.boto3_dynamodb import conditional_check_failed, describe
from wix_fulfillment.adapters.order_item import (
    BEFORE_CREATE,
    KEY,
    PAYMENT_NOTICED,
    REDRIVE_MARKER,
    STATUS,
    order_key,
    strings,
    timestamp,
)
from wix_fulfillment.core.model import (
    ApprovedOrder,
    OrderStoreUnavailable,
    PendingOrder,
    RecordingFailed,
)
from wix_fulfillment.core.order_status import OrderStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesOutputTypeDef,
        KeysAndAttributesTypeDef,
    )

MAX_KEYS_PER_BATCH_GET: Final = 100


class OrderOutcomesTable:
    """Implements the core's ``OrderOutcomes``: updates that apply only while PENDING."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
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
        keys = list(by_key)
        for start in range(0, len(keys), MAX_KEYS_PER_BATCH_GET):
            request: dict[str, KeysAndAttributesTypeDef] = {
                self._table_name: {
                    "Keys": [
                        {KEY: {"S": key}} for key in keys[start : start + MAX_KEYS_PER_BATCH_GET]
                    ],
                    "ConsistentRead": True,
                    "ProjectionExpression": f"{KEY}, #status, {BEFORE_CREATE}",
                    "ExpressionAttributeNames": {"#status": STATUS},
                }
            }
            for item in self._batch_get(request):
                if item[STATUS]["S"] != OrderStatus.PENDING:
                    continue
                order = by_key[item[KEY]["S"]]
                before = item.get(BEFORE_CREATE)
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
            raise OrderStoreUnavailable(describe(error)) from error
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
            self._client.update_item(
                TableName=self._table_name,
                Key={KEY: {"S": order_key(order.instance_id, order.order_id)}},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False  # already settled by an earlier delivery of the same order
            raise RecordingFailed(describe(error)) from error
        except BotoCoreError as error:
            raise RecordingFailed(describe(error)) from error
        return True


def _read_options(keys: KeysAndAttributesOutputTypeDef) -> KeysAndAttributesTypeDef:
    return {
        "Keys": keys["Keys"],
        "ConsistentRead": keys.get("ConsistentRead", True),
        "ProjectionExpression": keys.get("ProjectionExpression", ""),
        "ExpressionAttributeNames": keys.get("ExpressionAttributeNames", {}),
    }
