"""Calls to the sandbox's Wix routes exactly as a Wix client makes them, over urllib3."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import urllib3

FULFILLMENTS = "/ecom/v1/fulfillments"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error_code(self) -> str | None:
        """The application error code of a Wix error body (None for other bodies)."""
        details = self.body.get("details", {}) if isinstance(self.body, dict) else {}
        code: str | None = details.get("applicationError", {}).get("code")
        return code

    @property
    def violated_fields(self) -> list[str]:
        details = self.body.get("details", {}) if isinstance(self.body, dict) else {}
        violations = details.get("validationError", {}).get("fieldViolations", [])
        return [violation["field"] for violation in violations]


class WixHttp:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.pool = urllib3.PoolManager(retries=False, timeout=timeout)

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        request_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            request_headers["Authorization"] = token
        response = self.pool.request(
            method,
            self.base_url + path,
            body=None if body is None else json.dumps(body).encode(),
            headers=request_headers,
        )
        parsed = json.loads(response.data) if response.data else None
        return Answer(response.status, parsed, dict(response.headers))

    def token_answer(self, instance_id: str, client_id: str, client_secret: str) -> Answer:
        return self.call(
            "POST",
            "/oauth2/token",
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "instance_id": instance_id,
            },
        )

    def create(self, token: str, order_id: str, fulfillment: dict[str, Any]) -> Answer:
        return self.call(
            "POST",
            f"{FULFILLMENTS}/orders/{order_id}/create-fulfillment",
            {"fulfillment": fulfillment},
            token=token,
        )

    def list_one(self, token: str, order_id: str) -> Answer:
        return self.call("GET", f"{FULFILLMENTS}/orders/{order_id}", token=token)

    def list_by_ids(self, token: str, order_ids: list[str]) -> Answer:
        return self.call(
            "POST", f"{FULFILLMENTS}/list-by-ids", {"orderIds": order_ids}, token=token
        )

    def bulk_create(self, token: str, orders: list[dict[str, Any]]) -> Answer:
        return self.call(
            "POST",
            f"{FULFILLMENTS}/orders/bulk/create-fulfillments",
            {"ordersWithFulfillments": orders},
            token=token,
        )

    def update(
        self, token: str, order_id: str, fulfillment_id: str, fulfillment: dict[str, Any]
    ) -> Answer:
        return self.call(
            "PATCH",
            f"{FULFILLMENTS}/{fulfillment_id}/orders/{order_id}",
            {"fulfillment": fulfillment},
            token=token,
        )

    def delete(self, token: str, order_id: str, fulfillment_id: str) -> Answer:
        return self.call(
            "DELETE", f"{FULFILLMENTS}/{fulfillment_id}/orders/{order_id}", token=token
        )


def fedex(tracking_number: str = "12345") -> dict[str, str]:
    return {"trackingNumber": tracking_number, "shippingProvider": "fedex"}


def line(item: int, quantity: int | None = None) -> dict[str, Any]:
    """A fulfillment line for the order's ``item``-th line item (Wix's sequential ids)."""
    line_item: dict[str, Any] = {"id": f"00000000-0000-0000-0000-{item:012d}"}
    if quantity is not None:
        line_item["quantity"] = quantity
    return line_item
