"""Shipment providers: where tracking info comes from (``SHIPMENT_PROVIDER``).

``none`` creates fulfillments without tracking info. ``http`` asks a carrier service of yours:
POST the order projection as JSON with an ``Idempotency-Key`` (the same order and lines always get
the same key, so a retry gets the same label, not a second one) and expect
``{"trackingNumber", "shippingProvider", "trackingLink"?}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Final

import urllib3
from urllib3.exceptions import HTTPError

from wix_fulfillment.core.model import (
    ApprovedOrder,
    FulfilledLine,
    ShipmentProvider,
    TrackingInfo,
    TrackingUnavailable,
)

_TIMEOUT: Final = urllib3.Timeout(connect=2.0, read=10.0)
_MAX_FIELD_LENGTH: Final = 100


class NoTracking:
    """Fulfillments without tracking info (``SHIPMENT_PROVIDER=none``)."""

    def tracking_for(
        self, order: ApprovedOrder, lines: Sequence[FulfilledLine]
    ) -> TrackingInfo | None:
        return None


class HttpShipmentProvider:
    """Asks your carrier service for a label (``SHIPMENT_PROVIDER=http``)."""

    def __init__(self, url: str, pool: urllib3.PoolManager | None = None) -> None:
        self._url = url
        self._pool = pool or urllib3.PoolManager(maxsize=4, retries=False, timeout=_TIMEOUT)

    def tracking_for(
        self, order: ApprovedOrder, lines: Sequence[FulfilledLine]
    ) -> TrackingInfo | None:
        projection = {
            "instanceId": order.instance_id,
            "orderId": order.order_id,
            "orderNumber": order.order_number,
            "lineItems": [{"id": line.id, "quantity": line.quantity} for line in lines],
        }
        body = json.dumps(projection, sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": hashlib.sha256(body).hexdigest(),
        }
        try:
            response = self._pool.request("POST", self._url, body=body, headers=headers)
        except HTTPError as error:
            raise TrackingUnavailable(type(error).__name__) from error
        if response.status >= 300:
            raise TrackingUnavailable(f"HTTP {response.status}")
        return _tracking_info(response.data)


def _tracking_info(data: bytes) -> TrackingInfo:
    try:
        answer = json.loads(data)
    except ValueError as error:
        raise TrackingUnavailable("the answer is not JSON") from error
    if not isinstance(answer, dict):
        raise TrackingUnavailable("the answer is not a JSON object")
    number, provider, link = (
        answer.get("trackingNumber"),
        answer.get("shippingProvider"),
        answer.get("trackingLink"),
    )
    if not _short_text(number) or not _short_text(provider):
        raise TrackingUnavailable("trackingNumber and shippingProvider must be 1-100 characters")
    if link is not None and not (
        isinstance(link, str) and link.startswith(("https://", "http://"))
    ):
        raise TrackingUnavailable("trackingLink must be a URL")
    return TrackingInfo(str(number), str(provider), link)


def _short_text(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= _MAX_FIELD_LENGTH


def shipment_provider(name: str, url: str | None) -> ShipmentProvider:
    """The provider ``SHIPMENT_PROVIDER`` names (settings have checked that ``http`` has a URL)."""
    if name == "http" and url is not None:
        return HttpShipmentProvider(url)
    return NoTracking()
