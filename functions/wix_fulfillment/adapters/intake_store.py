"""The DynamoDB writes of the webhook: one conditional PutItem for an approved order, so the first
delivery stores the order and every later one changes nothing; one conditional UpdateItem for a
cancel or a payment.

It goes through :class:`DynamoDBLite` wherever the environment holds credentials and region (it
always does in Lambda), which keeps botocore out of the webhook's cold start; elsewhere (a
profile, a container credentials endpoint) through boto3 with its whole credential chain.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from wix_fulfillment.adapters.dynamodb_lite import DynamoDBError, DynamoDBLite
from wix_fulfillment.adapters.order_item import (
    CONDITIONAL_CHECK_FAILED,
    NEW_ORDER_CONDITION,
    cancel_update,
    new_order_item,
    payment_update,
)
from wix_fulfillment.core.model import (
    ApprovedOrder,
    OrderCanceled,
    OrderPaid,
    OrderStoreUnavailable,
)

# The webhook must answer Wix within 1.25 s: fail fast and let Wix's retry bring the order back.
CONNECT_TIMEOUT_SECONDS: Final = 0.5
READ_TIMEOUT_SECONDS: Final = 0.8
MAX_ATTEMPTS: Final = 2
TIME_BUDGET_SECONDS: Final = 0.9
"""Every attempt and wait of the write, leaving the rest of Wix's 1.25 s to verifying, parsing
and API Gateway."""


class DynamoDBTransport(Protocol):
    def put_item(
        self, table_name: str, item: Mapping[str, Any], condition_expression: str
    ) -> None: ...

    def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]: ...


class IntakeStore:
    """Implements the core's ``OrderStore`` over either transport."""

    def __init__(self, transport: DynamoDBTransport, table_name: str, retention: timedelta) -> None:
        self.transport = transport
        self._table_name = table_name
        self._retention = retention

    def insert_if_new(self, order: ApprovedOrder) -> bool:
        try:
            self.transport.put_item(
                self._table_name,
                new_order_item(order, datetime.now(UTC), self._retention),
                NEW_ORDER_CONDITION,
            )
        except DynamoDBError as error:
            if error.code == CONDITIONAL_CHECK_FAILED:
                return False
            raise OrderStoreUnavailable(f"DynamoDBError: {error.code}") from error
        return True

    def cancel(self, event: OrderCanceled) -> bool:
        return self._update(cancel_update(event, datetime.now(UTC), self._retention))

    def note_payment(self, event: OrderPaid) -> bool:
        return self._update(payment_update(event, datetime.now(UTC)))

    def _update(self, request: dict[str, Any]) -> bool:
        try:
            self.transport.call("UpdateItem", {"TableName": self._table_name, **request})
        except DynamoDBError as error:
            if error.code == CONDITIONAL_CHECK_FAILED:
                return False
            raise OrderStoreUnavailable(f"DynamoDBError: {error.code}") from error
        return True


def intake_transport(environ: Mapping[str, str] = os.environ) -> DynamoDBTransport:
    """The webhook's transport, within Wix's 1.25 s."""
    return dynamodb_transport(
        environ,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        max_attempts=MAX_ATTEMPTS,
        time_budget=TIME_BUDGET_SECONDS,
    )


def dynamodb_transport(
    environ: Mapping[str, str],
    *,
    connect_timeout: float,
    read_timeout: float,
    max_attempts: int,
    time_budget: float | None = None,
) -> DynamoDBTransport:
    """DynamoDBLite when the environment gives credentials and region (Lambda's always does),
    else boto3 with the same timeouts and attempts."""
    client = DynamoDBLite.from_environment(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        max_attempts=max_attempts,
        time_budget=time_budget,
        environ=environ,
    )
    if client is not None:
        return client
    from botocore.config import Config

    from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport, dynamodb_client

    return Boto3Transport(
        dynamodb_client(
            Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"mode": "standard", "total_max_attempts": max_attempts},
            )
        )
    )
