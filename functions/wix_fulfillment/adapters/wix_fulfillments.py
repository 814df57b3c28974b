"""Wix's Order Fulfillments API: the core's ``WixFulfillments`` port, and the operator's listing."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

import urllib3

from wix_fulfillment.adapters.wix_tokens import TokenCache, WixCredentials, WixSession
from wix_fulfillment.adapters.wix_transport import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    CallObserver,
    WixRequestFailed,
    WixTransport,
    connection_pool,
)
from wix_fulfillment.core.model import (
    MAX_ORDERS_PER_CALL,
    CreateResult,
    ExistingFulfillment,
    FulfilledLine,
    FulfillmentRequest,
    WixUnavailable,
)

MARK_FIELD: Final = "fulfilledBy"
MARK_VALUE: Final = "wix-fulfillment"
"""In ``customInfo.fieldsData`` of the fulfillments we create without tracking info: after a
lost answer or a crash it tells ours from someone else's with no write to the table."""


class WixFulfillmentsClient:
    """For one invocation (its deadline); the pool and token cache outlive it. Its session
    serves the invocation's other Wix clients too (one transport, one deadline)."""

    def __init__(
        self,
        base_url: str,
        credentials: WixCredentials,
        seconds_left: Callable[[], float],
        *,
        pool: urllib3.PoolManager | None = None,
        token_cache: TokenCache | None = None,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        observe: CallObserver | None = None,
    ) -> None:
        transport = WixTransport(
            base_url,
            seconds_left,
            pool=pool if pool is not None else connection_pool(),
            sleep=sleep,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            observe=observe,
        )
        self.session = WixSession(
            transport, credentials, token_cache if token_cache is not None else TokenCache()
        )

    def existing_fulfillments(
        self, instance_id: str, order_ids: Sequence[str]
    ) -> dict[str, list[ExistingFulfillment]]:
        found: dict[str, list[ExistingFulfillment]] = {order_id: [] for order_id in order_ids}
        for start in range(0, len(order_ids), MAX_ORDERS_PER_CALL):
            chunk = list(order_ids[start : start + MAX_ORDERS_PER_CALL])
            answer = self.session.call(
                instance_id, "POST", "/ecom/v1/fulfillments/list-by-ids", {"orderIds": chunk}
            )
            try:
                for entry in answer.get("ordersWithFulfillments", []):
                    found[entry["orderId"]] = [
                        _existing(fulfillment) for fulfillment in entry.get("fulfillments", [])
                    ]
            except (AttributeError, KeyError, TypeError, ValueError) as error:
                raise WixUnavailable(f"unexpected list-by-ids answer: {error!r}") from error
        return found

    def create_fulfillments(
        self, instance_id: str, requests: Sequence[FulfillmentRequest]
    ) -> list[CreateResult]:
        """One bulk create; if Wix refuses the whole bulk, each order alone (to learn why)."""
        body = {"ordersWithFulfillments": [_bulk_entry(request) for request in requests]}
        try:
            answer = self.session.call(
                instance_id,
                "POST",
                "/ecom/v1/fulfillments/orders/bulk/create-fulfillments",
                body,
                creates=True,
            )
        except WixRequestFailed as error:
            if error.status not in (400, 404, 409, 428):
                raise
            return [self._create_one(instance_id, request) for request in requests]
        return _bulk_results(requests, answer)

    def list_fulfillments(self, instance_id: str, order_id: str) -> dict[str, Any]:
        """Wix's List Fulfillments For Single Order, as Wix returns it."""
        return self.session.call(
            instance_id, "GET", f"/ecom/v1/fulfillments/orders/{quote(order_id, safe='')}", None
        )

    def _create_one(self, instance_id: str, request: FulfillmentRequest) -> CreateResult:
        """Create Fulfillment for one order: Wix's 4xx here is its verdict on this order."""
        try:
            answer = self.session.call(
                instance_id,
                "POST",
                f"/ecom/v1/fulfillments/orders/{quote(request.order_id, safe='')}"
                "/create-fulfillment",
                {"fulfillment": _fulfillment_body(request)},
                creates=True,
            )
        except WixRequestFailed as error:
            if error.status in (401, 403, 429):
                raise
            return CreateResult(request.order_id, (), error.code, error.message)
        fulfillments = answer.get("orderWithFulfillments", {}).get("fulfillments", [])
        return CreateResult(request.order_id, _ids(fulfillments))


def _existing(fulfillment: Mapping[str, Any]) -> ExistingFulfillment:
    custom = fulfillment.get("customInfo")
    fields = custom.get("fieldsData") if isinstance(custom, dict) else None
    return ExistingFulfillment(
        id=str(fulfillment.get("id", "")),
        lines=tuple(
            FulfilledLine(str(line["id"]), int(line.get("quantity", 0)))
            for line in fulfillment.get("lineItems", [])
        ),
        ours=isinstance(fields, dict) and fields.get(MARK_FIELD) == MARK_VALUE,
    )


def _fulfillment_body(request: FulfillmentRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "lineItems": [{"id": line.id, "quantity": line.quantity} for line in request.lines]
    }
    if request.tracking is not None:
        tracking = {
            "trackingNumber": request.tracking.tracking_number,
            "shippingProvider": request.tracking.shipping_provider,
        }
        if request.tracking.tracking_link:
            tracking["trackingLink"] = request.tracking.tracking_link
        body["trackingInfo"] = tracking
    if request.marked:
        body["customInfo"] = {"fieldsData": {MARK_FIELD: MARK_VALUE}}
    return body


def _bulk_entry(request: FulfillmentRequest) -> dict[str, Any]:
    return {"orderId": request.order_id, "fulfillments": [_fulfillment_body(request)]}


def _ids(fulfillments: object) -> tuple[str, ...]:
    if not isinstance(fulfillments, list):
        return ()
    return tuple(str(f["id"]) for f in fulfillments if isinstance(f, dict) and "id" in f)


def _bulk_results(
    requests: Sequence[FulfillmentRequest], answer: Mapping[str, Any]
) -> list[CreateResult]:
    """Per order, by ``originalIndex``: the order's fulfillment ids, or Wix's error for it.
    An order Wix's answer does not account for stays unsettled: the next round lists it."""
    results: list[CreateResult] = []
    entries = answer.get("results")
    for entry in entries if isinstance(entries, list) else []:
        metadata = entry.get("itemMetadata") if isinstance(entry, dict) else None
        index = metadata.get("originalIndex") if isinstance(metadata, dict) else None
        if not isinstance(metadata, dict) or not isinstance(index, int):
            continue
        if not 0 <= index < len(requests):
            continue
        order_id = requests[index].order_id
        if metadata.get("success"):
            order = entry.get("ordersWithFulfillments")
            fulfillments = order.get("fulfillments") if isinstance(order, dict) else None
            results.append(CreateResult(order_id, _ids(fulfillments)))
            continue
        error = metadata.get("error")
        if not isinstance(error, dict):
            error = {}
        results.append(
            CreateResult(
                order_id,
                (),
                str(error.get("code") or "UNKNOWN"),
                str(error.get("description", ""))[:500],
            )
        )
    return results
