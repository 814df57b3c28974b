"""The composition root: each function's parts, built once per execution environment from its
own settings. Handlers import it and hold what it builds; tests build the same parts from a given
environment.

Each builder imports its adapters itself, so the webhook's cold start loads neither boto3 nor the
worker's modules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import urllib3
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from wix_fulfillment.adapters.intake_store import IntakeStore, SiteWrites
    from wix_fulfillment.adapters.order_outcomes import OrderOutcomesTable
    from wix_fulfillment.adapters.order_records import OrderRecords
    from wix_fulfillment.adapters.settings import (
        FulfillmentSettings,
        ReconcileSettings,
        StatusSettings,
        WebhookSettings,
        WixAppSettings,
    )
    from wix_fulfillment.adapters.site_registry import SiteRegistry
    from wix_fulfillment.adapters.wix_fulfillments import WixFulfillmentsClient
    from wix_fulfillment.adapters.wix_orders import WixOrdersClient
    from wix_fulfillment.adapters.wix_tokens import TokenCache, WixCredentials
    from wix_fulfillment.adapters.wix_transport import CallObserver
    from wix_fulfillment.adapters.wix_webhook import WebhookVerifier
    from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy
    from wix_fulfillment.core.model import Concurrently, ShipmentProvider

_T = TypeVar("_T")


@dataclass(frozen=True)
class WebhookParts:
    settings: WebhookSettings
    verifier: WebhookVerifier
    orders: IntakeStore
    sites: SiteWrites
    """Over the same transport (one connection); it remembers the sites of this environment."""


def webhook_parts(environ: Mapping[str, str] = os.environ) -> WebhookParts:
    from wix_fulfillment.adapters.intake_store import IntakeStore, SiteWrites, intake_transport
    from wix_fulfillment.adapters.settings import WebhookSettings
    from wix_fulfillment.adapters.wix_webhook import WebhookVerifier, load_webhook_public_key

    settings = WebhookSettings.from_environment(environ)
    transport = intake_transport(environ)
    return WebhookParts(
        settings=settings,
        verifier=WebhookVerifier(load_webhook_public_key(settings.webhook_public_key)),
        orders=IntakeStore(
            transport, settings.table_name, timedelta(days=settings.order_retention_days)
        ),
        sites=SiteWrites(transport, settings.table_name),
    )


@dataclass(frozen=True)
class WixAccess:
    """Wix as the app, for any number of invocations: one connection pool and one token cache
    per execution environment, so warm invocations reuse both."""

    base_url: str
    credentials: WixCredentials
    pool: urllib3.PoolManager
    tokens: TokenCache

    def client(
        self, seconds_left: Callable[[], float], observe: CallObserver | None = None
    ) -> WixFulfillmentsClient:
        """A client bound to one invocation's deadline."""
        from wix_fulfillment.adapters.wix_fulfillments import WixFulfillmentsClient

        return WixFulfillmentsClient(
            self.base_url,
            self.credentials,
            seconds_left,
            pool=self.pool,
            token_cache=self.tokens,
            observe=observe,
        )

    @staticmethod
    def orders(client: WixFulfillmentsClient) -> WixOrdersClient:
        """The Orders API on the same invocation's session as ``client``."""
        from wix_fulfillment.adapters.wix_orders import WixOrdersClient

        return WixOrdersClient(client.session)


def wix_access(settings: WixAppSettings) -> WixAccess:
    from wix_fulfillment.adapters.app_secret import app_secret_reader
    from wix_fulfillment.adapters.wix_tokens import TokenCache, WixCredentials
    from wix_fulfillment.adapters.wix_transport import connection_pool

    return WixAccess(
        base_url=settings.api_base_url,
        credentials=WixCredentials(
            settings.app_id, app_secret_reader(settings.app_secret, settings.app_secret_arn)
        ),
        pool=connection_pool(),
        tokens=TokenCache(),
    )


@dataclass(frozen=True)
class FulfillmentParts:
    settings: FulfillmentSettings
    outcomes: OrderOutcomesTable
    wix: WixAccess
    shipments: ShipmentProvider
    policy: FulfillmentPolicy
    concurrently: Concurrently


def fulfillment_parts(environ: Mapping[str, str] = os.environ) -> FulfillmentParts:
    from wix_fulfillment.adapters.order_outcomes import OrderOutcomesTable, outcomes_transport
    from wix_fulfillment.adapters.settings import FulfillmentSettings
    from wix_fulfillment.adapters.shipment_provider import shipment_provider
    from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy

    settings = FulfillmentSettings.from_environment(environ)
    return FulfillmentParts(
        settings=settings,
        outcomes=OrderOutcomesTable(outcomes_transport(environ), settings.table_name),
        wix=wix_access(settings.wix),
        shipments=shipment_provider(settings.shipment_provider, settings.shipment_provider_url),
        policy=FulfillmentPolicy(
            settings.fulfillable_item_types,
            fulfiller_id=settings.fulfiller_id,
            fulfill_pickup_orders=settings.fulfill_pickup_orders,
            fulfill_when_paid=settings.fulfill_when_paid,
        ),
        concurrently=ThreadsConcurrently(WORKER_WRITE_THREADS),
    )


WORKER_WRITE_THREADS = 8
"""Table writes in flight at once, each on its own kept-alive connection."""


class ThreadsConcurrently:
    """The orders' table writes of one step at the same time: each waits on DynamoDB's answer,
    so one after another they were most of the worker's time per order."""

    def __init__(self, threads: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=threads)

    def __call__(self, work: Sequence[Callable[[], _T]]) -> list[_T]:
        if len(work) < 2:
            return [piece() for piece in work]
        return list(self._pool.map(lambda piece: piece(), work))


@dataclass(frozen=True)
class StatusParts:
    settings: StatusSettings
    records: OrderRecords
    wix: WixAccess


def status_parts(environ: Mapping[str, str] = os.environ) -> StatusParts:
    from wix_fulfillment.adapters.boto3_dynamodb import dynamodb_client
    from wix_fulfillment.adapters.order_records import OrderRecords
    from wix_fulfillment.adapters.settings import StatusSettings

    settings = StatusSettings.from_environment(environ)
    return StatusParts(
        settings=settings,
        records=OrderRecords(dynamodb_client(), settings.table_name),
        wix=wix_access(settings.wix),
    )


@dataclass(frozen=True)
class ReconcileParts:
    settings: ReconcileSettings
    intake: IntakeStore
    """The webhook's own conditional write, over boto3: a recovered order is stored once."""
    registry: SiteRegistry
    dynamodb: DynamoDBClient
    wix: WixAccess


def reconcile_parts(environ: Mapping[str, str] = os.environ) -> ReconcileParts:
    from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport, dynamodb_client
    from wix_fulfillment.adapters.intake_store import IntakeStore
    from wix_fulfillment.adapters.settings import ReconcileSettings
    from wix_fulfillment.adapters.site_registry import SiteRegistry

    settings = ReconcileSettings.from_environment(environ)
    client = dynamodb_client()
    return ReconcileParts(
        settings=settings,
        intake=IntakeStore(
            Boto3Transport(client),
            settings.table_name,
            timedelta(days=settings.order_retention_days),
        ),
        registry=SiteRegistry(client, settings.table_name),
        dynamodb=client,
        wix=wix_access(settings.wix),
    )
