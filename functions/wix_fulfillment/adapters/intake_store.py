"""The DynamoDB writes of the webhook: one conditional PutItem for an approved order, so the first
delivery stores the order and every later one changes nothing; one conditional UpdateItem for a
cancel or a payment; and the site registry's writes (``SiteWrites``): a site registered at its
first webhook, installed, removed.

It goes through :class:`DynamoDBLite` wherever the environment holds credentials and region (it
always does in Lambda), which keeps botocore out of the webhook's cold start; elsewhere (a
profile, a container credentials endpoint) through boto3 with its whole credential chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
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
from wix_fulfillment.adapters.site_item import new_site_item, reinstall_update, removal_update
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
        item = new_order_item(order, datetime.now(UTC), self._retention)
        return _put_new(self.transport, self._table_name, item)

    def cancel(self, event: OrderCanceled) -> bool:
        request = cancel_update(event, datetime.now(UTC), self._retention)
        return _update(self.transport, self._table_name, request)

    def note_payment(self, event: OrderPaid) -> bool:
        return _update(self.transport, self._table_name, payment_update(event, datetime.now(UTC)))

    def apply_found_payment(self, event: OrderPaid) -> bool:
        """The sweep's: a payment Wix has that no webhook brought (``payment_update``)."""
        request = payment_update(event, datetime.now(UTC), found=True)
        return _update(self.transport, self._table_name, request)


class SiteWrites:
    """Implements the core's ``SiteStore``: the site registry's writes, failing as intake's do
    (``OrderStoreUnavailable``). It remembers the sites it has registered or found registered,
    so a site costs the webhook one write per execution environment, not one per order."""

    def __init__(self, transport: DynamoDBTransport, table_name: str) -> None:
        self._transport = transport
        self._table_name = table_name
        self._known: set[str] = set()

    def seen(self, instance_id: str) -> None:
        """At every webhook of a site: registered at the first (its start date now)."""
        if instance_id not in self._known:
            self.register(instance_id)

    def register(self, instance_id: str, now: datetime | None = None) -> bool:
        """ACTIVE from now (or ``now``) on; True when this call registered it. A site known
        already (or removed) is left as it is."""
        moment = now or datetime.now(UTC)
        registered = _put_new(
            self._transport, self._table_name, new_site_item(instance_id, moment, moment)
        )
        self._known.add(instance_id)
        return registered

    def installed(self, instance_id: str, now: datetime | None = None) -> bool:
        """App Instance Installed: registered; a removed site installed again starts anew."""
        moment = now or datetime.now(UTC)
        if self.register(instance_id, moment):
            return True
        return _update(self._transport, self._table_name, reinstall_update(instance_id, moment))

    def removed(self, instance_id: str, now: datetime | None = None) -> bool:
        """App Instance Removed: never swept again, its pending orders settled unfulfilled."""
        request = removal_update(instance_id, now or datetime.now(UTC))
        removed = _update(self._transport, self._table_name, request)
        self._known.add(instance_id)
        return removed


def _put_new(transport: DynamoDBTransport, table_name: str, item: Mapping[str, Any]) -> bool:
    """PutItem only where no item is: False when one was."""
    return _applied(lambda: transport.put_item(table_name, item, NEW_ORDER_CONDITION))


def _update(transport: DynamoDBTransport, table_name: str, request: Mapping[str, Any]) -> bool:
    """A conditional UpdateItem: False when its condition kept it from applying."""
    return _applied(lambda: transport.call("UpdateItem", {"TableName": table_name, **request}))


def _applied(write: Callable[[], object]) -> bool:
    try:
        write()
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
