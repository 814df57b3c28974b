"""Write the sample event and env file for ``sam local invoke`` (``python -m infra.sample_events``).

The event's body is the Order Approved payload of Wix's documentation page, signed with the
committed development key; the env file gives the function the matching public key. Signing is
deterministic (RS256 is PKCS#1 v1.5), so running this again changes nothing unless its inputs do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from infra.apigw_events import http_api_event
from infra.webhook_signing import sign_wix_webhook, wix_webhook_claims

INFRA_DIR: Final = Path(__file__).resolve().parent
SEED_ENVELOPE_PATH: Final = INFRA_DIR / "seed" / "order_approved_envelope.json"
SAMPLE_FLOW_ORDER_PATH: Final = INFRA_DIR / "seed" / "sample_flow_order.json"
DEV_PRIVATE_KEY_PATH: Final = INFRA_DIR / "dev_keys" / "webhook_signing_private_key.pem"
DEV_PUBLIC_KEY_PATH: Final = INFRA_DIR / "dev_keys" / "webhook_signing_public_key.pem"
ORDER_APPROVED_EVENT_PATH: Final = INFRA_DIR / "events" / "order_approved.json"
ENV_VARS_PATH: Final = INFRA_DIR / "env.json"

DEV_INSTANCE_ID: Final = "6a1f3c9e-2b7d-4e58-9c0a-1d2e3f4a5b6c"
LOCAL_TABLE_NAME: Final = "wix-orders-local"
# Docker's view of the host, where `make dynamodb-local` listens (see README, Invoke locally).
LOCAL_DYNAMODB_FROM_DOCKER: Final = "http://host.docker.internal:8000"
ISSUED_AT: Final = 1_795_354_245  # 2026-11-22
EXPIRES_AT: Final = 4_102_444_800  # 2100-01-01: the sample stays valid


def seed_envelope() -> dict[str, Any]:
    """The Order Approved payload of Wix's documentation page (a digital, fulfilled order)."""
    envelope: dict[str, Any] = json.loads(SEED_ENVELOPE_PATH.read_text(encoding="utf-8"))
    return envelope


def sample_flow_order() -> dict[str, Any]:
    """The order of Wix's sample flow: one shippable line item, quantity 1, not yet fulfilled."""
    order: dict[str, Any] = json.loads(SAMPLE_FLOW_ORDER_PATH.read_text(encoding="utf-8"))
    return order


def order_approved_event() -> dict[str, Any]:
    claims = wix_webhook_claims(
        seed_envelope(), instance_id=DEV_INSTANCE_ID, issued_at=ISSUED_AT, expires_at=EXPIRES_AT
    )
    return http_api_event(sign_wix_webhook(claims, DEV_PRIVATE_KEY_PATH.read_bytes()))


def env_vars() -> dict[str, dict[str, str]]:
    return {
        "WebhookFunction": {
            "TABLE_NAME": LOCAL_TABLE_NAME,
            "WIX_WEBHOOK_PUBLIC_KEY": DEV_PUBLIC_KEY_PATH.read_text(encoding="ascii"),
            "AWS_ENDPOINT_URL_DYNAMODB": LOCAL_DYNAMODB_FROM_DOCKER,
        }
    }


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(INFRA_DIR.parent)}")


def main() -> None:
    _write_json(ORDER_APPROVED_EVENT_PATH, order_approved_event())
    _write_json(ENV_VARS_PATH, env_vars())


if __name__ == "__main__":
    main()
