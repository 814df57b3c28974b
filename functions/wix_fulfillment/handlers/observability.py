"""One logging and metrics setup for every function: Powertools' JSON logs, EMF metrics in one
namespace, and the keys each log line carries (cold start, request id)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

METRICS_NAMESPACE: Final = "WixOrderFulfillment"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def logger_and_metrics(service: str) -> tuple[Logger, Metrics]:
    return Logger(service=service), Metrics(namespace=METRICS_NAMESPACE, service=service)


def entry_point(logger: Logger, metrics: Metrics) -> Callable[[Handler], Handler]:
    """Flushes the invocation's metrics, and tags its logs with ``cold_start`` (the first
    invocation of this execution environment) and the request id."""
    invocations = itertools.count()

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        @metrics.log_metrics
        def observed(event: dict[str, Any], context: Any) -> dict[str, Any]:
            logger.append_keys(
                cold_start=next(invocations) == 0, request_id=_request_id(event, context)
            )
            return handler(event, context)

        return observed

    return decorate


def wix_call_observer(metrics: Metrics) -> Callable[[str, str, float], None]:
    """Every Wix call's latency; every failed one as an error, by status (or error name)."""

    def observe(endpoint: str, outcome: str, seconds: float) -> None:
        metrics.add_metric(
            name="WixCallLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000
        )
        if outcome.isdigit() and int(outcome) < 400:
            return
        with single_metric(
            name="WixErrors", unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as error:
            error.add_dimension(name="status", value=outcome)
            error.add_dimension(name="endpoint", value=endpoint)

    return observe


def _request_id(event: dict[str, Any], context: Any) -> str:
    """API Gateway's request id where there is one (what ties a log line to API Gateway's
    logs), else Lambda's."""
    api_request = (event.get("requestContext") or {}).get("requestId")
    return str(api_request or getattr(context, "aws_request_id", ""))
