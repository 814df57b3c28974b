"""WebhookFunction: API Gateway HTTP API (payload v2) ``POST /webhooks/wix`` from Wix.

Answers, as Wix and its retries need them: 200 accepted / duplicate / ignored, 400 malformed
content in a verified token, 401 bad token, 413 oversized body, 503 only when the order could
not be stored (so that Wix retries and nothing is lost).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from wix_fulfillment.adapters.order_intake import OrderStoreUnavailable, intake_table
from wix_fulfillment.adapters.settings import WebhookSettings
from wix_fulfillment.adapters.wix_webhook import (
    InvalidToken,
    WebhookVerifier,
    load_webhook_public_key,
)
from wix_fulfillment.core.intake import take_in
from wix_fulfillment.core.order_event import ApprovedOrder, MalformedEvent

logger = Logger(service="wix-webhook")

# Built once per execution environment, during Lambda's init phase.
_settings = WebhookSettings.from_environment()
_verifier = WebhookVerifier(load_webhook_public_key(_settings.webhook_public_key))
_orders = intake_table(_settings.table_name, timedelta(days=_settings.order_retention_days))


class PayloadTooLarge(Exception):
    """The body is over the configured limit; nothing in it is looked at."""


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    try:
        token = _request_body(event, _settings.max_body_bytes)
        result = take_in(_verifier.verified_claims(token), _orders)
    except PayloadTooLarge:
        logger.warning("webhook rejected", extra={"reason": "body too large"})
        return _answer(413, {"error": "request body too large"})
    except InvalidToken as error:
        logger.warning("webhook rejected", extra={"reason": f"invalid token: {error}"})
        return _answer(401, {"error": "invalid or expired webhook token"})
    except MalformedEvent as error:
        logger.warning("webhook rejected", extra={"reason": f"malformed event: {error}"})
        return _answer(400, {"error": f"malformed event: {error}"})
    except OrderStoreUnavailable as error:
        logger.error("order not stored; Wix will retry", extra={"reason": str(error)})
        return _answer(503, {"error": "order could not be stored, retry later"})
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
            extra={"event_type": result.event.event_type, "reason": result.event.reason},
        )
    return _answer(200, {"status": result.outcome})


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
