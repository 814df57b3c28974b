"""The baseline for benchmarks 2 and 3: the webhook handler as a typical user would write it.

Powertools end to end (Logger, Tracer, Metrics, the HTTP API resolver, the idempotency
decorator over a DynamoDB persistence table), PyJWT with the algorithm pinned, and a boto3
resource ``Table.put_item`` of the same projection our handler stores. Never deployed: it exists
so that our cold start and latency have a same-run yardstick.

Environment: ``TABLE_NAME``, ``IDEMPOTENCY_TABLE_NAME``, ``WIX_WEBHOOK_PUBLIC_KEY`` (PEM).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import jwt
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="wix-webhook-naive")
tracer = Tracer(service="wix-webhook-naive")
metrics = Metrics(namespace="WixOrders", service="wix-webhook-naive")
app = APIGatewayHttpResolver()

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
persistence = DynamoDBPersistenceLayer(table_name=os.environ["IDEMPOTENCY_TABLE_NAME"])
idempotency_config = IdempotencyConfig(event_key_jmespath="pk", expires_after_seconds=3600)
PUBLIC_KEY = os.environ["WIX_WEBHOOK_PUBLIC_KEY"]
RETENTION = timedelta(days=90)


# Powertools types idempotent_function's keyword form as returning Any.
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="order", persistence_store=persistence, config=idempotency_config
)
def store_order(order: dict[str, Any]) -> dict[str, str]:
    table.put_item(Item=order)
    return {"status": "accepted"}


def project(instance_id: str, envelope: dict[str, Any]) -> dict[str, Any]:
    order = envelope["actionEvent"]["body"]["order"]
    now = datetime.now(UTC)
    return {
        "pk": f"ORDER#{instance_id}#{order['id']}",
        "instanceId": instance_id,
        "orderId": order["id"],
        "eventId": envelope["id"],
        "orderNumber": order.get("number"),
        "lineItems": [
            {
                "id": line["id"],
                "quantity": line["quantity"],
                "shippable": line.get("physicalProperties", {}).get("shippable", False),
                "itemType": line.get("itemType", {}).get("preset", "UNRECOGNISED"),
            }
            for line in order["lineItems"]
        ],
        "status": "PENDING",
        "attempts": 0,
        "receivedAt": now.isoformat(),
        "expiresAt": int((now + RETENTION).timestamp()),
    }


@app.post("/webhooks/wix")
@tracer.capture_method
def wix_webhook() -> dict[str, str] | Response[str]:
    try:
        claims = jwt.decode(app.current_event.decoded_body or "", PUBLIC_KEY, algorithms=["RS256"])
    except jwt.InvalidTokenError as error:
        logger.warning("invalid webhook token", extra={"reason": str(error)})
        return Response(401, "application/json", json.dumps({"error": "invalid token"}))
    webhook = json.loads(claims["data"])
    if webhook["eventType"] != "wix.ecom.v1.order_approved":
        return {"status": "ignored"}
    item = project(webhook["instanceId"], json.loads(webhook["data"]))
    result: dict[str, str] = store_order(order=item)
    metrics.add_metric(name="OrdersStored", unit=MetricUnit.Count, value=1)
    logger.info("order stored", extra={"order_id": item["orderId"]})
    return result


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
