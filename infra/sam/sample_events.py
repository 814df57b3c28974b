"""Write the sample events and env file for ``sam local invoke``: ``make events``.

``order_approved.json`` (WebhookFunction): an HTTP API request whose body is the Order Approved
payload of Wix's documentation page, signed with the committed development key.
``sample_flow_approved.json`` (WebhookFunction): the Order Approved webhook of Wix's sample-flow
order, which stores the item ``order_stream.json`` (FulfillmentFunction) is the stream's record of.
``order_status.json`` (StatusFunction): the operators' status request for that order.
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
from infra.samples.webhook_signing import (
    order_approved_envelope,
    sign_wix_webhook,
    wix_webhook_claims,
)
from infra.wix_sandbox.config import DEFAULT_APP_ID, DEFAULT_APP_SECRET
from wix_fulfillment.adapters.order_item import new_order_item
from wix_fulfillment.adapters.settings import DEFAULT_ORDER_RETENTION_DAYS

INFRA_DIR: Final = Path(__file__).resolve().parents[1]
ORDER_APPROVED_EVENT_PATH: Final = INFRA_DIR / "events" / "order_approved.json"
ORDER_STREAM_EVENT_PATH: Final = INFRA_DIR / "events" / "order_stream.json"
SAMPLE_FLOW_APPROVED_EVENT_PATH: Final = INFRA_DIR / "events" / "sample_flow_approved.json"
ORDER_STATUS_EVENT_PATH: Final = INFRA_DIR / "events" / "order_status.json"

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


def signed_webhook_event(envelope: dict[str, Any], request_id: str) -> dict[str, Any]:
    claims = wix_webhook_claims(
        envelope, instance_id=DEV_INSTANCE_ID, issued_at=ISSUED_AT, expires_at=EXPIRES_AT
    )
    return http_api_event(
        sign_wix_webhook(claims, DEV_PRIVATE_KEY_PATH.read_bytes()),
        request_id=request_id,
        received_at=ISSUED_AT,
    )


def order_approved_event() -> dict[str, Any]:
    return signed_webhook_event(seed_envelope(), "c6af9ac6-7b61-11e6-9a41-93e8deadbeef")


def sample_flow_approved_event() -> dict[str, Any]:
    order = sample_flow_order()
    envelope = order_approved_envelope(order, SAMPLE_FLOW_EVENT_ID, order.get("updatedDate", ""))
    return signed_webhook_event(envelope, "3f1d2c4b-8a7e-4b6d-9c5f-0e1a2b3c4d5e")


def order_status_event() -> dict[str, Any]:
    order_id = sample_flow_order()["id"]
    return http_api_event(
        "",
        method="GET",
        path=f"/orders/{order_id}/fulfillments",
        route_path="/orders/{orderId}/fulfillments",
        headers={"accept": "application/json"},
        query_string=f"instanceId={DEV_INSTANCE_ID}",
        path_parameters={"orderId": order_id},
        request_id="9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
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
        "ReconcileFunction": {
            "TABLE_NAME": LOCAL_TABLE_NAME,
            "WIX_APP_ID": DEFAULT_APP_ID,
            "WIX_APP_SECRET": DEFAULT_APP_SECRET,
            "WIX_API_BASE_URL": LOCAL_SANDBOX_FROM_DOCKER,
            "AWS_ENDPOINT_URL_DYNAMODB": LOCAL_DYNAMODB_FROM_DOCKER,
        },
    }


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(INFRA_DIR.parent)}")


def main() -> None:
    _write_json(ORDER_APPROVED_EVENT_PATH, order_approved_event())
    _write_json(ORDER_STREAM_EVENT_PATH, order_stream_event())
    _write_json(SAMPLE_FLOW_APPROVED_EVENT_PATH, sample_flow_approved_event())
    _write_json(ORDER_STATUS_EVENT_PATH, order_status_event())
    _write_json(ENV_VARS_PATH, env_vars())


if __name__ == "__main__":
    main()
