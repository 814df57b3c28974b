"""FulfillmentFunction: the orders table's stream to Wix fulfillments.

The event source mapping (template.yaml) delivers only new PENDING orders and redriven ones. The
answer lists, by sequence number, the records whose orders were not settled
(``ReportBatchItemFailures``): the stream retries from the first of them, and after the
configured retries hands them to the dead-letter queue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Final, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from wix_fulfillment.adapters.orders_table import (
    WORKER_CLIENT_CONFIG,
    OrderOutcomesTable,
    OrderStoreUnavailable,
    dynamodb_client,
    order_from_image,
)
from wix_fulfillment.adapters.settings import (
    METRICS_NAMESPACE,
    FulfillmentSettings,
    app_secret_reader,
)
from wix_fulfillment.adapters.shipment_provider import shipment_provider
from wix_fulfillment.adapters.wix_api import WixApiClient, WixCredentials
from wix_fulfillment.core.fulfillment_plan import FulfillmentPolicy
from wix_fulfillment.core.fulfillment_run import Collaborators, Outcome, fulfil_orders
from wix_fulfillment.core.order_event import ApprovedOrder

logger = Logger(service="wix-fulfillment")
metrics = Metrics(namespace=METRICS_NAMESPACE, service="wix-fulfillment")
OUTCOME_METRICS: Final = {
    Outcome.FULFILLED: "FulfillmentsCreated",
    Outcome.SKIPPED: "FulfillmentsSkipped",
    Outcome.REJECTED: "FulfillmentsRejected",
    Outcome.RETRY: "OrdersRetried",
}


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


# Built once per execution environment, during Lambda's init phase.
_settings = FulfillmentSettings.from_environment()
_outcomes = OrderOutcomesTable(dynamodb_client(WORKER_CLIENT_CONFIG), _settings.table_name)
_credentials = WixCredentials(
    _settings.wix_app_id,
    app_secret_reader(_settings.wix_app_secret, _settings.wix_app_secret_arn),
)
_shipments = shipment_provider(_settings.shipment_provider, _settings.shipment_provider_url)
_policy = FulfillmentPolicy(_settings.fulfillable_item_types)


def observe_wix_call(endpoint: str, outcome: str, seconds: float) -> None:
    """Every Wix call's latency; every failed one as an error, by status (or error name)."""
    metrics.add_metric(name="WixCallLatency", unit=MetricUnit.Milliseconds, value=seconds * 1000)
    if outcome.isdigit() and int(outcome) < 400:
        return
    with single_metric(
        name="WixErrors", unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
    ) as error:
        error.add_dimension(name="status", value=outcome)
        error.add_dimension(name="endpoint", value=endpoint)


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders: dict[tuple[str, str], ApprovedOrder] = {}
    records_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    failed: list[str] = []
    for record in event.get("Records", []):
        sequence_number = record["dynamodb"]["SequenceNumber"]
        try:
            order = order_from_image(record["dynamodb"]["NewImage"])
        except (KeyError, ValueError) as error:
            logger.error(
                "stream record is not an order; left for the dead-letter queue",
                extra={"sequence_number": sequence_number, "reason": str(error)},
            )
            failed.append(sequence_number)
            continue
        key = (order.instance_id, order.order_id)
        orders[key] = order
        records_of[key].append(sequence_number)
    try:
        # A redelivered record's image says PENDING; the item may have moved on since.
        pending = _outcomes.pending_orders(list(orders.values()))
    except OrderStoreUnavailable as error:
        logger.error("orders table unavailable; the batch is retried", extra={"reason": str(error)})
        return _answer(failed + [n for numbers in records_of.values() for n in numbers])
    for key in orders.keys() - pending.keys():
        logger.info("order already settled", extra={"instance_id": key[0], "order_id": key[1]})

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    parts = Collaborators(
        wix=WixApiClient(
            _settings.wix_api_base_url, _credentials, seconds_left, observe=observe_wix_call
        ),
        shipments=_shipments,
        outcomes=_outcomes,
        policy=_policy,
    )
    outcomes = fulfil_orders(pending.values(), parts, seconds_left)
    for outcome, count in Counter(result.outcome for result in outcomes.values()).items():
        metrics.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=count)
    for (instance_id, order_id), result in outcomes.items():
        logger.info(
            f"order {result.outcome}",
            extra={"instance_id": instance_id, "order_id": order_id, "detail": result.detail},
        )
        if result.outcome is Outcome.RETRY:
            failed.extend(records_of[(instance_id, order_id)])
    return _answer(failed)


def _answer(failed_sequence_numbers: list[str]) -> dict[str, Any]:
    """``ReportBatchItemFailures``: the stream resumes from the first of these."""
    return {"batchItemFailures": [{"itemIdentifier": n} for n in failed_sequence_numbers]}
