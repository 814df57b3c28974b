"""StatusFunction: ``GET /orders/{orderId}/fulfillments?instanceId=...`` (IAM-authorized).

Our record of the order (status, attempts, last error, fulfillment ids) beside what Wix lists for
it, so an operator sees both sides in one answer. Unknown orders get 404.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from wix_fulfillment.bootstrap import status_parts
from wix_fulfillment.core.model import OrderStoreUnavailable, WixUnavailable
from wix_fulfillment.handlers.observability import (
    entry_point,
    logger_and_metrics,
    wix_call_observer,
)
from wix_fulfillment.handlers.responses import json_response

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger, metrics = logger_and_metrics("wix-status")
_ID: Final = re.compile(r"[0-9A-Za-z-]{1,64}")

parts = status_parts()
"""Built once per execution environment, during Lambda's init phase."""
observe_wix_call = wix_call_observer(metrics)


@entry_point(logger, metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order_id = (event.get("pathParameters") or {}).get("orderId", "")
    instance_id = (event.get("queryStringParameters") or {}).get("instanceId", "")
    if not _ID.fullmatch(order_id) or not _ID.fullmatch(instance_id):
        return json_response(400, {"error": "give the order id in the path and ?instanceId=<site>"})
    try:
        record = parts.records.record(instance_id, order_id)
    except OrderStoreUnavailable as error:
        logger.error("orders table unavailable", extra={"reason": str(error)})
        return json_response(503, {"error": "the orders table is unavailable, retry later"})
    if record is None:
        return json_response(
            404, {"error": "no such order", "instanceId": instance_id, "orderId": order_id}
        )
    wix = parts.wix.client(lambda: context.get_remaining_time_in_millis() / 1000, observe_wix_call)
    try:
        listing: dict[str, Any] | None = wix.list_fulfillments(instance_id, order_id)
        wix_error = None
    except WixUnavailable as error:
        listing, wix_error = None, str(error)
    return json_response(200, {"order": record, "wix": listing, "wixError": wix_error})
