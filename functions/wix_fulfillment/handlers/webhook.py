"""WebhookFunction: API Gateway HTTP API (payload v2) ``POST /webhooks/wix`` from Wix.

Answers, as Wix and its retries need them: 200 accepted / duplicate / applied / unchanged /
ignored, 400 malformed content in a verified token, 401 bad token, 413 oversized body, 503 only
when the order, or its site in the registry, could not be stored (so that Wix retries and
nothing is lost: the sweep covers registered sites only).

App Instance Installed and Removed come the same way and are applied to the site registry.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.metrics import MetricUnit

from wix_fulfillment.adapters.wix_webhook import InvalidToken
from wix_fulfillment.bootstrap import webhook_parts
from wix_fulfillment.core.intake import IntakeOutcome, take_in
from wix_fulfillment.core.model import (
    ApprovedOrder,
    IgnoredEvent,
    OrderCanceled,
    OrderPaid,
    OrderStoreUnavailable,
)
from wix_fulfillment.core.order_event import MalformedEvent
from wix_fulfillment.handlers.observability import entry_point, logger_and_metrics
from wix_fulfillment.handlers.responses import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger, metrics = logger_and_metrics("wix-webhook")
LOGGED_TEXT_LIMIT: Final = 200
"""Text from a request (an event type, a verifier's reason quoting a header) is cut to this in
logs: whoever sent it must not be able to fill the logs."""
OUTCOME_METRICS: Final = {
    IntakeOutcome.ACCEPTED: "WebhooksAccepted",
    IntakeOutcome.DUPLICATE: "WebhooksDuplicate",
    IntakeOutcome.IGNORED: "WebhooksIgnored",
    IntakeOutcome.APPLIED: "WebhooksApplied",
    IntakeOutcome.UNCHANGED: "WebhooksUnchanged",
}
_EVENT_NAMES: Final = {ApprovedOrder: "order", OrderCanceled: "cancel", OrderPaid: "payment"}
"""Log lines read "order accepted", "cancel applied", "payment unchanged"; an app instance
event's "AppInstalled applied", "AppRemoved unchanged"."""

parts = webhook_parts()
"""Built once per execution environment, during Lambda's init phase."""


class PayloadTooLarge(Exception):
    """The body is over the configured limit; nothing in it is looked at."""


@entry_point(logger, metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        token = _request_body(event, parts.settings.max_body_bytes)
        result = take_in(parts.verifier.verified_claims(token), parts.orders, parts.sites)
    except PayloadTooLarge:
        return _rejected(413, "body too large", {"error": "request body too large"})
    except InvalidToken as error:
        return _rejected(
            401, "invalid token", {"error": "invalid or expired webhook token"}, str(error)
        )
    except MalformedEvent as error:
        return _rejected(400, "malformed event", {"error": f"malformed event: {error}"}, str(error))
    except OrderStoreUnavailable as error:
        logger.error("order or site not stored; Wix will retry", extra={"reason": str(error)})
        metrics.add_metric(name="WebhooksNotStored", unit=MetricUnit.Count, value=1)
        return json_response(503, {"error": "order could not be stored, retry later"})
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    if isinstance(result.event, ApprovedOrder | OrderCanceled | OrderPaid):
        applied = result.event
        logger.info(
            f"{_EVENT_NAMES[type(applied)]} {result.outcome}",
            extra={
                "instance_id": applied.instance_id,
                "order_id": applied.order_id,
                "event_id": applied.event_id,
            },
        )
    elif isinstance(result.event, IgnoredEvent):
        logger.info(
            "event ignored",
            extra={
                "event_type": result.event.event_type[:LOGGED_TEXT_LIMIT],
                "reason": result.event.reason,
            },
        )
    else:
        logger.info(
            f"{result.event.event_type} {result.outcome}",
            extra={"instance_id": result.event.instance_id},
        )
    return json_response(200, {"status": result.outcome})


def _rejected(status: int, reason: str, body: dict[str, str], detail: str = "") -> dict[str, Any]:
    """A refused delivery: logged with why, counted by reason, answered without internals."""
    logger.warning(
        "webhook rejected",
        extra={"reason": f"{reason}: {detail[:LOGGED_TEXT_LIMIT]}" if detail else reason},
    )
    metrics.add_dimension(name="reason", value=reason)  # this invocation's flush only
    metrics.add_metric(name="WebhooksRejected", unit=MetricUnit.Count, value=1)
    return json_response(status, body)


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
