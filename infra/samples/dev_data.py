"""The development site and its data, shared by the local stack, the sample events and tests.

The seed orders are those of Wix's pages; the keys stand in for Wix's (see ``dev_keys/README.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from infra.samples.webhook_signing import order_approved_envelope, wix_webhook_claims
from wix_fulfillment.core.model import ApprovedOrder
from wix_fulfillment.core.order_event import parse_webhook_claims

SAMPLES_DIR: Final = Path(__file__).resolve().parent
SEED_ENVELOPE_PATH: Final = SAMPLES_DIR / "seed" / "order_approved_envelope.json"
SAMPLE_FLOW_ORDER_PATH: Final = SAMPLES_DIR / "seed" / "sample_flow_order.json"
DEV_PRIVATE_KEY_PATH: Final = SAMPLES_DIR / "dev_keys" / "webhook_signing_private_key.pem"
DEV_PUBLIC_KEY_PATH: Final = SAMPLES_DIR / "dev_keys" / "webhook_signing_public_key.pem"
DEV_INSTANCE_ID: Final = "6a1f3c9e-2b7d-4e58-9c0a-1d2e3f4a5b6c"


def seed_envelope() -> dict[str, Any]:
    """The Order Approved payload of Wix's documentation page (a digital, fulfilled order)."""
    envelope: dict[str, Any] = json.loads(SEED_ENVELOPE_PATH.read_text(encoding="utf-8"))
    return envelope


def sample_flow_order() -> dict[str, Any]:
    """The order of Wix's sample flow: one shippable line item, quantity 1, not yet fulfilled."""
    order: dict[str, Any] = json.loads(SAMPLE_FLOW_ORDER_PATH.read_text(encoding="utf-8"))
    return order


def approved_order(instance_id: str, wix_order: dict[str, Any], event_id: str) -> ApprovedOrder:
    """The order as the webhook stores it, from its Order Approved event."""
    envelope = order_approved_envelope(wix_order, event_id, wix_order.get("updatedDate", ""))
    claims = wix_webhook_claims(envelope, instance_id=instance_id, issued_at=0, expires_at=1)
    order = parse_webhook_claims(claims)
    if not isinstance(order, ApprovedOrder):
        raise ValueError("not an approved order")
    return order
