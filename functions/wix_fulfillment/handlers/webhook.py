"""WebhookFunction: API Gateway HTTP API (payload v2) ``POST /webhooks/wix`` from Wix.

Answers, as Wix and its retries need them: 200 accepted / duplicate / ignored, 400 malformed
content in a verified token, 401 bad token, 413 oversized body, 503 only when the order could
not be stored (so that Wix retries and nothing is lost).
"""

from __future__ import annotations

import base64
import itertools
import json
from datetime import timedelta
from typing import Any, Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from wix_fulfillment.adapters.order_intake import OrderStoreUnavailable, intake_table
from wix_fulfillment.adapters.settings import METRICS_NAMESPACE, WebhookSettings
from wix_fulfillment.adapters.wix_webhook import (
    InvalidToken,
    WebhookVerifier,
    load_webhook_public_key,
)
from wix_fulfillment.core.intake import IntakeOutcome, take_in
from wix_fulfillment.core.order_event import ApprovedOrder, MalformedEvent

logger = Logger(service="wix-webhook")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="wix-webhook")
LOGGED_TEXT_LIMIT: Final = 200
"""Text from a request (an event type, a verifier's reason quoting a header) is cut to this in
logs: whoever sent it must not be able to fill the logs."""
OUTCOME_METRICS: Final = {
    IntakeOutcome.ACCEPTED: "WebhooksAccepted",
    IntakeOutcome.DUPLICATE: "WebhooksDuplicate",
    IntakeOutcome.IGNORED: "WebhooksIgnored",
}

# Built once per execution environment, during Lambda's init phase.
_settings = WebhookSettings.from_environment()
_verifier = WebhookVerifier(load_webhook_public_key(_settings.webhook_public_key))
_orders = intake_table(_settings.table_name, timedelta(days=_settings.order_retention_days))


_invocations = itertools.count()
"""Invocations of this execution environment so far: the first one's logs say cold_start."""


class PayloadTooLarge(Exception):
    """The body is over the configured limit; nothing in it is looked at."""


@metrics.log_metrics
def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    logger.append_keys(cold_start=next(_invocations) == 0, request_id=_request_id(event))
    try:
        token = _request_body(event, _settings.max_body_bytes)
        result = take_in(_verifier.verified_claims(token), _orders)
    except PayloadTooLarge:
        return _rejected(413, "body too large", {"error": "request body too large"})
    except InvalidToken as error:
        return _rejected(
            401, "invalid token", {"error": "invalid or expired webhook token"}, str(error)
        )
    except MalformedEvent as error:
        return _rejected(400, "malformed event", {"error": f"malformed event: {error}"}, str(error))
    except OrderStoreUnavailable as error:
        logger.error("order not stored; Wix will retry", extra={"reason": str(error)})
        metrics.add_metric(name="WebhooksNotStored", unit=MetricUnit.Count, value=1)
        return _answer(503, {"error": "order could not be stored, retry later"})
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    if isinstance(result.event, ApprovedOrder):
        order = result.event
        logger.info(
            f"order {result.outcome}",
            extra={
                "instance_id": order.instance_id,
                "order_id": order.order_id,
                "event_id": order.event_id,
            },
        )
    else:
        logger.info(
            "event ignored",
            extra={
                "event_type": result.event.event_type[:LOGGED_TEXT_LIMIT],
                "reason": result.event.reason,
            },
        )
    return _answer(200, {"status": result.outcome})


def _rejected(status: int, reason: str, body: dict[str, str], detail: str = "") -> dict[str, Any]:
    """A refused delivery: logged with why, counted by reason, answered without internals."""
    logger.warning(
        "webhook rejected",
        extra={"reason": f"{reason}: {detail[:LOGGED_TEXT_LIMIT]}" if detail else reason},
    )
    metrics.add_dimension(name="reason", value=reason)  # this invocation's flush only
    metrics.add_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1)
    return _answer(status, body)


def _request_id(event: dict[str, Any]) -> str:
    """API Gateway's request id: what ties a log line to the request in API Gateway's logs."""
    return str((event.get("requestContext") or {}).get("requestId", ""))


def _request_body(event: dict[str, Any], max_body_bytes: int) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        raw = body.encode("utf-8", errors="replace")
        if len(raw) > max_body_bytes:
            raise PayloadTooLarge
        return raw
    if len(body) > (max_body_bytes + 2) // 3 * 4:
        raise PayloadTooLarge
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError as error:  # binascii.Error, or text that is not even ASCII
        raise InvalidToken("body is not valid base64") from error
    if len(raw) > max_body_bytes:
        raise PayloadTooLarge
    return raw


def _answer(status: int, body: dict[str, str]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
