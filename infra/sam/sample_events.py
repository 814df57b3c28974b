"""Write the sample events and env file for ``sam local invoke``: ``make events``.

``order_approved.json`` (WebhookFunction): an HTTP API request whose body is the Order Approved
payload of Wix's documentation page, signed with the committed development key.
``order_stream.json`` (FulfillmentFunction): the stream's record of the sample-flow order, stored.
``env.json``: the matching public key, and the local DynamoDB and Wix sandbox as Docker sees them.
Signing is deterministic (RS256 is PKCS#1 v1.5): running this again changes nothing unless its
inputs do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from infra.local_stack.apigw_events import http_api_event
from infra.local_stack.dynamodb_stream import lambda_record, lambda_stream_event
from infra.local_stack.env_file import ENV_VARS_PATH
from infra.samples.dev_data import (
    DEV_INSTANCE_ID,
    DEV_PRIVATE_KEY_PATH,
    DEV_PUBLIC_KEY_PATH,
    approved_order,
    sample_flow_order,
    seed_envelope,
)
from infra.samples.webhook_signing import sign_wix_webhook, wix_webhook_claims
from infra.wix_sandbox.config import DEFAULT_APP_ID, DEFAULT_APP_SECRET
from wix_fulfillment.adapters.order_item import new_order_item
from wix_fulfillment.adapters.settings import DEFAULT_ORDER_RETENTION_DAYS

INFRA_DIR: Final = Path(__file__).resolve().parents[1]
ORDER_APPROVED_EVENT_PATH: Final = INFRA_DIR / "events" / "order_approved.json"
ORDER_STREAM_EVENT_PATH: Final = INFRA_DIR / "events" / "order_stream.json"

LOCAL_TABLE_NAME: Final = "wix-orders-local"
# Docker's view of the host, where `make dynamodb-local` and `make sandbox` listen.
LOCAL_DYNAMODB_FROM_DOCKER: Final = "http://host.docker.internal:8000"
LOCAL_SANDBOX_FROM_DOCKER: Final = "http://host.docker.internal:8700"
LOCAL_STREAM_ARN: Final = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/wix-orders-local/stream/2026-11-22T14:00:00.000"
)
SAMPLE_FLOW_EVENT_ID: Final = "520d5673-b7fb-4e7f-8e05-e6489a73d734"
STORED_AT: Final = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)
ISSUED_AT: Final = 1_795_354_245  # 2026-11-22
EXPIRES_AT: Final = 4_102_444_800  # 2100-01-01: the sample stays valid


def order_stream_event() -> dict[str, Any]:
    """What the stream hands FulfillmentFunction once the sample-flow order is stored."""
    order = approved_order(DEV_INSTANCE_ID, sample_flow_order(), SAMPLE_FLOW_EVENT_ID)
    image = new_order_item(order, STORED_AT, timedelta(days=DEFAULT_ORDER_RETENTION_DAYS))
    record = {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": STORED_AT,
            "Keys": {"pk": image["pk"]},
            "NewImage": image,
            "SequenceNumber": "100000000000000000001",
            "SizeBytes": len(json.dumps(image)),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    return lambda_stream_event([lambda_record(record, LOCAL_STREAM_ARN)])


def order_approved_event() -> dict[str, Any]:
    claims = wix_webhook_claims(
        seed_envelope(), instance_id=DEV_INSTANCE_ID, issued_at=ISSUED_AT, expires_at=EXPIRES_AT
    )
    return http_api_event(
        sign_wix_webhook(claims, DEV_PRIVATE_KEY_PATH.read_bytes()),
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        received_at=ISSUED_AT,
    )


def env_vars() -> dict[str, dict[str, str]]:
    return {
        "WebhookFunction": {
            "TABLE_NAME": LOCAL_TABLE_NAME,
            "WIX_WEBHOOK_PUBLIC_KEY": DEV_PUBLIC_KEY_PATH.read_text(encoding="ascii"),
            "AWS_ENDPOINT_URL_DYNAMODB": LOCAL_DYNAMODB_FROM_DOCKER,
        },
        "StatusFunction": {
            "TABLE_NAME": LOCAL_TABLE_NAME,
            "WIX_APP_ID": DEFAULT_APP_ID,
            "WIX_APP_SECRET": DEFAULT_APP_SECRET,
            "WIX_API_BASE_URL": LOCAL_SANDBOX_FROM_DOCKER,
            "AWS_ENDPOINT_URL_DYNAMODB": LOCAL_DYNAMODB_FROM_DOCKER,
        },
        "FulfillmentFunction": {
            "TABLE_NAME": LOCAL_TABLE_NAME,
            "WIX_APP_ID": DEFAULT_APP_ID,
            "WIX_APP_SECRET": DEFAULT_APP_SECRET,
            "WIX_API_BASE_URL": LOCAL_SANDBOX_FROM_DOCKER,
            "SHIPMENT_PROVIDER": "http",
            "SHIPMENT_PROVIDER_URL": f"{LOCAL_SANDBOX_FROM_DOCKER}/_sandbox/carrier/labels",
            "AWS_ENDPOINT_URL_DYNAMODB": LOCAL_DYNAMODB_FROM_DOCKER,
        },
    }


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(INFRA_DIR.parent)}")


def main() -> None:
    _write_json(ORDER_APPROVED_EVENT_PATH, order_approved_event())
    _write_json(ORDER_STREAM_EVENT_PATH, order_stream_event())
    _write_json(ENV_VARS_PATH, env_vars())


if __name__ == "__main__":
    main()
