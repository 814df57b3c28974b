"""A stand-in shipping carrier: it issues a label (tracking number) per order, idempotently.

The same ``Idempotency-Key`` returns the same label, so a worker that retries after a timeout does
not buy two labels; the same key with a different request is refused (422), as payment and
shipping APIs do, because it means the caller mixed up two shipments.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Mapping
from typing import Any

from infra.wix_sandbox.errors import application_error, validation_error
from infra.wix_sandbox.parsing import NOT_A_JSON_OBJECT, json_object, required_string
from infra.wix_sandbox.tracking import carrier_tracking_link, new_tracking_number


class CarrierService:
    def __init__(self, provider: str, seed: int) -> None:
        self.provider = provider
        self._seed = seed
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:carrier-labels")  # noqa: S311 (not cryptography)
        self._labels: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}

    def label(self, idempotency_key: str | None, request: object) -> tuple[dict[str, Any], bool]:
        """The label for this key, and whether it was issued now (False: a repeat)."""
        if not idempotency_key or len(idempotency_key) > 255:
            raise validation_error("Idempotency-Key", "header required (1 to 255 characters)")
        shipment = _shipment(request)
        with self._lock:
            known = self._labels.get(idempotency_key)
            if known is not None:
                if known[0] != shipment:
                    raise application_error(
                        422,
                        "IDEMPOTENCY_KEY_REUSED",
                        "this Idempotency-Key was used for a different shipment",
                    )
                return known[1], False
            tracking_number = new_tracking_number(self.provider, self._rng)
            label = {
                "labelId": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                "trackingNumber": tracking_number,
                "shippingProvider": self.provider,
                "trackingLink": carrier_tracking_link(self.provider, tracking_number),
            }
            self._labels[idempotency_key] = (shipment, label)
            return label, True

    def reset(self) -> None:
        with self._lock:
            self._labels.clear()
            self._rng = random.Random(f"{self._seed}:carrier-labels")  # noqa: S311


def _shipment(request: object) -> dict[str, Any]:
    shipment = json_object(request, "body", NOT_A_JSON_OBJECT)
    instance_id, order_id = (required_string(shipment, name) for name in ("instanceId", "orderId"))
    line_items = shipment.get("lineItems")
    if not isinstance(line_items, list) or not line_items:
        raise validation_error("lineItems", "required non-empty list")
    for index, item in enumerate(line_items):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise validation_error(f"lineItems[{index}].id", "required string")
    return {"instanceId": instance_id, "orderId": order_id, "lineItems": line_items}
