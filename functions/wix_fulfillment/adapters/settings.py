"""Configuration from the environment, read once per execution environment (cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_MAX_WEBHOOK_BODY_BYTES: Final = 10 * 1024 * 1024
"""API Gateway's HTTP API limit: a genuine order of 300 richly described lines, pretty-printed
as Wix sends it, can pass 2 MiB."""
DEFAULT_ORDER_RETENTION_DAYS: Final = 90
DEFAULT_WIX_API_BASE_URL: Final = "https://www.wixapis.com"
DEFAULT_FULFILLABLE_ITEM_TYPES: Final = "PHYSICAL"
SHIPMENT_PROVIDERS: Final = ("none", "http")
FULFILL_WHEN_CHOICES: Final = ("approved", "paid")


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has a bad setting; the message names it."""


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """What WebhookFunction is configured with."""

    table_name: str
    webhook_public_key: str
    max_body_bytes: int
    order_retention_days: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> WebhookSettings:
        return cls(
            table_name=_required(environ, "TABLE_NAME"),
            webhook_public_key=_required(environ, "WIX_WEBHOOK_PUBLIC_KEY"),
            max_body_bytes=_positive_int(
                environ, "WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_WEBHOOK_BODY_BYTES
            ),
            order_retention_days=_positive_int(
                environ, "ORDER_RETENTION_DAYS", DEFAULT_ORDER_RETENTION_DAYS
            ),
        )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _boolean(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ConfigurationError(f"environment variable {name} must be true or false")
    return raw == "true"


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"environment variable {name} must be a positive whole number")
    return int(raw)


@dataclass(frozen=True, slots=True)
class WixAppSettings:
    """How a function calls Wix as the app: the worker and the status function both do."""

    app_id: str
    app_secret: str | None
    """Given directly only locally; in AWS the secret is read from ``app_secret_arn``."""
    app_secret_arn: str | None
    api_base_url: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> WixAppSettings:
        return cls(
            app_id=_required(environ, "WIX_APP_ID"),
            app_secret=environ.get("WIX_APP_SECRET", "").strip() or None,
            app_secret_arn=environ.get("WIX_APP_SECRET_ARN", "").strip() or None,
            api_base_url=environ.get("WIX_API_BASE_URL", "").strip() or DEFAULT_WIX_API_BASE_URL,
        )


@dataclass(frozen=True, slots=True)
class StatusSettings:
    """What StatusFunction is configured with."""

    table_name: str
    wix: WixAppSettings

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> StatusSettings:
        return cls(
            table_name=_required(environ, "TABLE_NAME"),
            wix=WixAppSettings.from_environment(environ),
        )


@dataclass(frozen=True, slots=True)
class FulfillmentSettings:
    """What FulfillmentFunction is configured with."""

    table_name: str
    wix: WixAppSettings
    shipment_provider: str
    shipment_provider_url: str | None
    fulfillable_item_types: frozenset[str]
    fulfiller_id: str | None
    """Lines naming this fulfiller app are ours too (besides the merchant's own lines)."""
    fulfill_pickup_orders: bool
    fulfill_when_paid: bool
    """``FULFILL_WHEN=paid``: an unpaid order waits (``approved``, the default, ships cash on
    delivery before payment)."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> FulfillmentSettings:
        provider = environ.get("SHIPMENT_PROVIDER", "").strip().lower() or "none"
        if provider not in SHIPMENT_PROVIDERS:
            raise ConfigurationError(
                "environment variable SHIPMENT_PROVIDER must be one of: "
                + ", ".join(SHIPMENT_PROVIDERS)
            )
        provider_url = environ.get("SHIPMENT_PROVIDER_URL", "").strip() or None
        if provider == "http" and provider_url is None:
            raise ConfigurationError("SHIPMENT_PROVIDER=http needs SHIPMENT_PROVIDER_URL")
        item_types = frozenset(
            part.strip()
            for part in environ.get("FULFILLABLE_ITEM_TYPES", DEFAULT_FULFILLABLE_ITEM_TYPES).split(
                ","
            )
            if part.strip()
        )
        if not item_types:
            raise ConfigurationError("environment variable FULFILLABLE_ITEM_TYPES names no type")
        fulfill_when = environ.get("FULFILL_WHEN", "").strip().lower() or "approved"
        if fulfill_when not in FULFILL_WHEN_CHOICES:
            raise ConfigurationError("environment variable FULFILL_WHEN must be approved or paid")
        return cls(
            table_name=_required(environ, "TABLE_NAME"),
            wix=WixAppSettings.from_environment(environ),
            shipment_provider=provider,
            shipment_provider_url=provider_url,
            fulfillable_item_types=item_types,
            fulfiller_id=environ.get("FULFILLER_ID", "").strip() or None,
            fulfill_pickup_orders=_boolean(environ, "FULFILL_PICKUP_ORDERS", default=False),
            fulfill_when_paid=fulfill_when == "paid",
        )


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    """What ReconcileFunction is configured with."""

    table_name: str
    wix: WixAppSettings
    order_retention_days: int
    """The same expiry as the webhook's, for the orders a sweep takes in."""
    overlap_minutes: int
    calls_per_site: int
    redrive_after_minutes: int
    """A PENDING order untouched this long (the stream gave up on it) is redriven."""
    max_auto_redrives: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ReconcileSettings:
        return cls(
            table_name=_required(environ, "TABLE_NAME"),
            wix=WixAppSettings.from_environment(environ),
            order_retention_days=_positive_int(
                environ, "ORDER_RETENTION_DAYS", DEFAULT_ORDER_RETENTION_DAYS
            ),
            overlap_minutes=_positive_int(environ, "RECONCILE_OVERLAP_MINUTES", 10),
            calls_per_site=_positive_int(environ, "RECONCILE_CALLS_PER_SITE", 20),
            redrive_after_minutes=_positive_int(environ, "REDRIVE_AFTER_MINUTES", 60),
            max_auto_redrives=_positive_int(environ, "MAX_AUTO_REDRIVES", 3),
        )
