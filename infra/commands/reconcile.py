"""Backfill: take in a site's orders of a chosen window that no webhook brought.

    wix-fulfillment reconcile --local --instance-id <site> --since 2025-03-01              # dry run
    wix-fulfillment reconcile --table <OrdersTable> --instance-id <site> --since 2025-03-01 \\
        --until 2025-03-08 --apply

Wix's Search Orders is read as the scheduled sweep reads it (approved, not fulfilled, updated in
the window; ``core/reconciliation.py``), and each order found goes through the webhook's own
conditional write, so an order already stored is left alone. A dry run (the default) lists the
orders an ``--apply`` would take in, and writes nothing. Orders created before the site's start
date are never taken in: ``--start-date`` (with ``--apply``) sets it first. Credentials and the API
come from the worker's settings (``WIX_APP_ID``, ``WIX_APP_SECRET`` or ``WIX_APP_SECRET_ARN``,
``WIX_API_BASE_URL``) or the flags; ``--local`` means ``make local``'s table and sandbox.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import boto3

from infra.local_stack.dynamodb_local import local_client
from infra.wix_sandbox.config import DEFAULT_APP_ID, DEFAULT_APP_SECRET
from wix_fulfillment.adapters.app_secret import app_secret_reader
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import IntakeStore
from wix_fulfillment.adapters.order_item import KEY, order_key
from wix_fulfillment.adapters.settings import (
    DEFAULT_ORDER_RETENTION_DAYS,
    DEFAULT_WIX_API_BASE_URL,
    ConfigurationError,
)
from wix_fulfillment.adapters.site_registry import SiteRegistry
from wix_fulfillment.adapters.wix_fulfillments import WixFulfillmentsClient
from wix_fulfillment.adapters.wix_orders import WixOrdersClient
from wix_fulfillment.adapters.wix_tokens import WixCredentials
from wix_fulfillment.core.model import ApprovedOrder, OrderStoreUnavailable, WixUnavailable
from wix_fulfillment.core.order_status import SiteStatus
from wix_fulfillment.core.reconciliation import (
    OrdersPage,
    Site,
    Window,
    sweep_site,
    wix_instant,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

LOCAL_DYNAMODB: Final = "http://127.0.0.1:8000"
LOCAL_SANDBOX: Final = "http://127.0.0.1:8700"
LOCAL_TABLE: Final = "OrdersTable"
COMMAND_SECONDS: Final = 3600.0
MAX_PAGES: Final = 10_000


def _instant(text: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 instant; without a zone, UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _Progress:
    """Search Orders, telling the operator of each page as it comes."""

    def __init__(self, wix: WixOrdersClient) -> None:
        self._wix = wix
        self.pages = 0
        self.orders = 0

    def search_page(self, instance_id: str, search: Mapping[str, Any]) -> OrdersPage:
        page = self._wix.search_page(instance_id, search)
        self.pages += 1
        self.orders += len(page.orders)
        print(
            f"  page {self.pages}: {len(page.orders)} orders ({self.orders} so far)",
            file=sys.stderr,
        )
        return page


def _stored(dynamodb: DynamoDBClient, table: str, order: ApprovedOrder) -> bool:
    answer = dynamodb.get_item(
        TableName=table,
        Key={KEY: {"S": order_key(order.instance_id, order.order_id)}},
        ProjectionExpression=KEY,
        ConsistentRead=True,
    )
    return "Item" in answer


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance-id", required=True, help="the Wix site's app instance id")
    parser.add_argument("--since", required=True, type=_instant, help="orders updated from")
    parser.add_argument("--until", type=_instant, help="orders updated before (default: now)")
    parser.add_argument("--apply", action="store_true", help="take them in (default: list only)")
    parser.add_argument("--start-date", type=_instant, help="set the site's start date first")
    parser.add_argument("--local", action="store_true", help="make local's table and sandbox")
    parser.add_argument("--table", help="the orders table (the stack's OrdersTableName output)")
    parser.add_argument("--endpoint-url", help="a DynamoDB Local")
    parser.add_argument("--app-id", default=os.environ.get("WIX_APP_ID"))
    parser.add_argument("--app-secret", default=os.environ.get("WIX_APP_SECRET"))
    parser.add_argument("--app-secret-arn", default=os.environ.get("WIX_APP_SECRET_ARN"))
    parser.add_argument("--base-url", default=os.environ.get("WIX_API_BASE_URL"))
    arguments = parser.parse_args(argv)
    if arguments.local:
        arguments.table = arguments.table or LOCAL_TABLE
        arguments.endpoint_url = arguments.endpoint_url or LOCAL_DYNAMODB
        arguments.base_url = arguments.base_url or LOCAL_SANDBOX
        arguments.app_id = arguments.app_id or DEFAULT_APP_ID
        arguments.app_secret = arguments.app_secret or DEFAULT_APP_SECRET
    if not arguments.table:
        parser.error("give --table, or --local")
    if not arguments.app_id:
        parser.error("give --app-id or set WIX_APP_ID")
    if arguments.start_date and not arguments.apply:
        parser.error("--start-date writes: give --apply too")
    dynamodb = (
        local_client(arguments.endpoint_url) if arguments.endpoint_url else boto3.client("dynamodb")
    )
    registry = SiteRegistry(dynamodb, arguments.table)
    if arguments.start_date:
        registry.set_start_date(arguments.instance_id, arguments.start_date)
    site = registry.site(arguments.instance_id) or Site(
        arguments.instance_id, SiteStatus.ACTIVE, start_date=arguments.since
    )
    now = datetime.now(UTC)
    window = Window(arguments.since, arguments.until or now)
    started = time.monotonic()
    try:
        client = WixFulfillmentsClient(
            arguments.base_url or DEFAULT_WIX_API_BASE_URL,
            WixCredentials(
                arguments.app_id,
                app_secret_reader(arguments.app_secret, arguments.app_secret_arn),
            ),
            lambda: COMMAND_SECONDS - (time.monotonic() - started),
        )
        wix = _Progress(WixOrdersClient(client.session))
        intake = IntakeStore(
            Boto3Transport(dynamodb),
            arguments.table,
            timedelta(days=DEFAULT_ORDER_RETENTION_DAYS),
        )

        def take_in(order: ApprovedOrder) -> bool:
            if arguments.apply:
                return intake.insert_if_new(order)
            return not _stored(dynamodb, arguments.table, order)

        print(
            f"reconcile {arguments.instance_id}: orders updated from {wix_instant(window.start)}"
            f" to {wix_instant(window.until)}, start date {wix_instant(site.start_date)}"
            f"{'' if site.status is SiteStatus.ACTIVE else ' (the site is REMOVED)'}",
            file=sys.stderr,
        )
        sweep = sweep_site(
            site,
            window,
            wix,
            take_in,
            event_id=f"backfill:{wix_instant(now)}",
            max_calls=MAX_PAGES,
        )
    except (ConfigurationError, WixUnavailable, OrderStoreUnavailable) as error:
        print(f"reconcile: {error}", file=sys.stderr)
        return 1
    verb = "taken in" if arguments.apply else "to take in"
    for order_id in sweep.recovered:
        print(f"{verb}: {order_id}")
    print(
        f"reconcile: {wix.orders} orders found, {len(sweep.recovered)} {verb},"
        f" {sweep.already_stored} already stored, {len(sweep.before_start)} before the start"
        f" date, {len(sweep.unreadable)} unreadable"
        + ("" if arguments.apply else " (dry run: --apply takes them in)"),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
