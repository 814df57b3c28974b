"""FulfillmentFunction: the orders table's stream to Wix fulfillments.

The event source mapping (template.yaml) delivers only new PENDING orders, redriven ones, and
orders a payment took out of AWAITING_PAYMENT. Orders of a site the app was removed from (its
registry item, read once per batch) are recorded SKIPPED with the reason, with no Wix call. The
answer lists, by sequence number, the records whose orders were not settled
(``ReportBatchItemFailures``): the stream retries from the first of them, and after the
configured retries hands them to the dead-letter queue.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.metrics import MetricUnit

from wix_fulfillment.adapters.order_item import order_from_item
from wix_fulfillment.bootstrap import fulfillment_parts
from wix_fulfillment.core.fulfillment_run import (
    Collaborators,
    OrderResult,
    Outcome,
    fulfill_orders,
    leave_for_retry,
)
from wix_fulfillment.core.model import ApprovedOrder, AppSecretNotSet, OrderStoreUnavailable
from wix_fulfillment.core.removed_sites import settle_removed_sites_orders
from wix_fulfillment.handlers.observability import (
    entry_point,
    logger_and_metrics,
    wix_call_observer,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger, metrics = logger_and_metrics("wix-fulfillment")
OUTCOME_METRICS: Final = {
    Outcome.FULFILLED: "FulfillmentsCreated",
    Outcome.SKIPPED: "FulfillmentsSkipped",
    Outcome.REJECTED: "FulfillmentsRejected",
    Outcome.CANCELED: "OrdersCanceled",
    Outcome.AWAITING_PAYMENT: "OrdersAwaitingPayment",
    Outcome.SETTLED_ELSEWHERE: "OrdersSettledElsewhere",
    Outcome.RETRY: "OrdersRetried",
}
HOLD_MARGIN_SECONDS: Final = 30.0
"""How long before its deadline a batch that cannot be tried is handed back."""

parts = fulfillment_parts()
"""Built once per execution environment, during Lambda's init phase."""
observe_wix_call = wix_call_observer(metrics)


@entry_point(logger, metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders: dict[tuple[str, str], ApprovedOrder] = {}
    records_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    failed: list[str] = []
    for record in event.get("Records", []):
        sequence_number = record["dynamodb"]["SequenceNumber"]
        try:
            order = order_from_item(record["dynamodb"]["NewImage"])
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
        pending = parts.outcomes.pending_orders(list(orders.values()))
        removed_sites = parts.outcomes.removed_sites({key[0] for key in pending})
    except OrderStoreUnavailable as error:
        logger.error("orders table unavailable; the batch is retried", extra={"reason": str(error)})
        return _batch_item_failures(
            failed + [n for numbers in records_of.values() for n in numbers]
        )
    for key in orders.keys() - pending.keys():
        logger.info("order already settled", extra={"instance_id": key[0], "order_id": key[1]})
    of_removed_sites = [order for key, order in pending.items() if key[0] in removed_sites]
    if of_removed_sites:
        failed.extend(
            _reported(
                settle_removed_sites_orders(of_removed_sites, parts.outcomes, parts.concurrently),
                records_of,
            )
        )
        pending = {key: order for key, order in pending.items() if key[0] not in removed_sites}

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    wix = parts.wix.client(seconds_left, observe_wix_call)
    collaborators = Collaborators(
        wix=wix,
        orders=parts.wix.orders(wix),
        shipments=parts.shipments,
        outcomes=parts.outcomes,
        policy=parts.policy,
        concurrently=parts.concurrently,
    )
    try:
        parts.wix.credentials.app_secret()
    except AppSecretNotSet as error:
        outcomes = leave_for_retry(pending.values(), collaborators, str(error))
        logger.error(
            "the app secret has not been set; no Wix call tried, the batch waits for a retry",
            extra={"reason": str(error), "orders": len(outcomes)},
        )
        metrics.add_metric(name="AppSecretNotSet", unit=MetricUnit.Count, value=1)
        # Spaced retries give the operator time to put the secret in before the dead-letter queue.
        time.sleep(max(seconds_left() - HOLD_MARGIN_SECONDS, 0))
        return _batch_item_failures(failed + [n for key in outcomes for n in records_of[key]])
    outcomes = fulfill_orders(pending.values(), collaborators, seconds_left)
    return _batch_item_failures(failed + _reported(outcomes, records_of))


def _reported(
    outcomes: Mapping[tuple[str, str], OrderResult], records_of: Mapping[tuple[str, str], list[str]]
) -> list[str]:
    """Each outcome counted and logged; the sequence numbers of the orders left for retry."""
    for outcome, count in Counter(result.outcome for result in outcomes.values()).items():
        metrics.add_metric(name=OUTCOME_METRICS[outcome], unit=MetricUnit.Count, value=count)
    retried: list[str] = []
    for (instance_id, order_id), result in outcomes.items():
        logger.info(
            f"order {result.outcome}",
            extra={"instance_id": instance_id, "order_id": order_id, "detail": result.detail},
        )
        if result.outcome is Outcome.RETRY:
            retried.extend(records_of[(instance_id, order_id)])
    return retried


def _batch_item_failures(failed_sequence_numbers: list[str]) -> dict[str, Any]:
    """``ReportBatchItemFailures``: the stream resumes from the first of these."""
    return {"batchItemFailures": [{"itemIdentifier": n} for n in failed_sequence_numbers]}
