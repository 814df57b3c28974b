"""StatusFunction: ``GET /orders/{orderId}/fulfillments?instanceId=...`` (IAM-authorized).

Our record of the order (status, attempts, last error, fulfillment ids) beside what Wix lists for
it, so an operator sees both sides in one answer. Unknown orders get 404.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, Protocol

from aws_lambda_powertools import Logger

from wix_fulfillment.adapters.orders_table import (
    WORKER_CLIENT_CONFIG,
    OrderRecords,
    OrderStoreUnavailable,
    dynamodb_client,
)
from wix_fulfillment.adapters.settings import FulfillmentSettings, app_secret_reader
from wix_fulfillment.adapters.wix_api import WixApiClient, WixCredentials
from wix_fulfillment.core.fulfillment_run import WixUnavailable

logger = Logger(service="wix-status")
_ID: Final = re.compile(r"[0-9A-Za-z-]{1,64}")


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


# Built once per execution environment, during Lambda's init phase.
_settings = FulfillmentSettings.from_environment()
_records = OrderRecords(dynamodb_client(WORKER_CLIENT_CONFIG), _settings.table_name)
_credentials = WixCredentials(
    _settings.wix_app_id,
    app_secret_reader(_settings.wix_app_secret, _settings.wix_app_secret_arn),
)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order_id = (event.get("pathParameters") or {}).get("orderId", "")
    instance_id = (event.get("queryStringParameters") or {}).get("instanceId", "")
    if not _ID.fullmatch(order_id) or not _ID.fullmatch(instance_id):
        return _answer(400, {"error": "give the order id in the path and ?instanceId=<site>"})
    try:
        record = _records.record(instance_id, order_id)
    except OrderStoreUnavailable as error:
        logger.error("orders table unavailable", extra={"reason": str(error)})
        return _answer(503, {"error": "the orders table is unavailable, retry later"})
    if record is None:
        return _answer(
            404, {"error": "no such order", "instanceId": instance_id, "orderId": order_id}
        )
    wix = WixApiClient(
        _settings.wix_api_base_url,
        _credentials,
        lambda: context.get_remaining_time_in_millis() / 1000,
    )
    try:
        listing: dict[str, Any] | None = wix.list_fulfillments(instance_id, order_id)
        wix_error = None
    except WixUnavailable as error:
        listing, wix_error = None, str(error)
    return _answer(200, {"order": record, "wix": listing, "wixError": wix_error})


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
