"""A client of the sandbox's control API, for tests, the local stack, the demo and benchmarks.

It speaks HTTP, so it works the same for a sandbox in this process and one in a subprocess. It
does not wrap Wix's own routes: those are for the code under test to call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3

_WAIT_MARGIN_SECONDS = 5.0


class SandboxControlError(RuntimeError):
    """The control API refused a request; ``body`` says why (Wix's error shape)."""

    def __init__(self, status: int, body: object) -> None:
        super().__init__(f"sandbox answered {status}: {body}")
        self.status = status
        self.body = body


class SandboxClient:
    def __init__(self, base_url: str, *, timeout_seconds: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout_seconds = timeout_seconds
        self._http = urllib3.PoolManager(retries=False)

    def close(self) -> None:
        self._http.clear()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def public_key_pem(self) -> str:
        response = self._http.request(
            "GET", f"{self.base_url}/_sandbox/public-key", timeout=self._timeout_seconds
        )
        if response.status != 200:
            raise SandboxControlError(response.status, response.data.decode(errors="replace"))
        return response.data.decode("ascii")

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def configure(self, **changes: object) -> dict[str, Any]:
        """Change run-time settings by their JSON names, e.g. ``configure(webhookUrl=url)``."""
        return self._call("PATCH", "/config", changes)

    def create_site(self, instance_id: str | None = None) -> str:
        body = {} if instance_id is None else {"instanceId": instance_id}
        instance: str = self._call("POST", "/sites", body)["instanceId"]
        return instance

    def create_orders(
        self,
        instance_id: str,
        *,
        order: Mapping[str, Any] | None = None,
        generate: Mapping[str, Any] | None = None,
        prefulfilled: list[Mapping[str, Any]] | None = None,
        event_id: str | None = None,
        delivery: Mapping[str, Any] | None = None,
        deliver_webhook: bool = True,
    ) -> dict[str, Any]:
        """``{"orders": [...], "deliveries": [{deliveryId, eventId, orderId}]}``."""
        body: dict[str, Any] = {"instanceId": instance_id, "deliverWebhook": deliver_webhook}
        for name, value in (
            ("order", order),
            ("generate", generate),
            ("prefulfilled", prefulfilled),
            ("eventId", event_id),
            ("delivery", delivery),
        ):
            if value is not None:
                body[name] = value
        return self._call("POST", "/orders", body)

    def create_order(self, instance_id: str, **options: Any) -> dict[str, Any]:
        """One order (given or generated, as for ``create_orders``); returns the stored order."""
        order: dict[str, Any] = self.create_orders(instance_id, **options)["orders"][0]
        return order

    def order(self, order_id: str) -> dict[str, Any]:
        """``{"instanceId", "order" (with fulfillmentStatus), "fulfillments"}``."""
        return self._call("GET", f"/orders/{order_id}")

    def orders(self, instance_id: str | None = None) -> list[dict[str, Any]]:
        query = {} if instance_id is None else {"instanceId": instance_id}
        orders: list[dict[str, Any]] = self._call("GET", "/orders", query=query)["orders"]
        return orders

    def set_order_status(self, order_id: str, status: str) -> dict[str, Any]:
        return self.change_order(order_id, status=status)

    def change_order(
        self,
        order_id: str,
        *,
        status: str | None = None,
        payment_status: str | None = None,
        refunds: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """Cancel it, change its payment status, refund units of lines (``{line id: units}``)."""
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
        if payment_status is not None:
            changes["paymentStatus"] = payment_status
        if refunds is not None:
            changes["refunds"] = dict(refunds)
        order: dict[str, Any] = self._call("PATCH", f"/orders/{order_id}", changes)["order"]
        return order

    def send_webhooks(
        self, order_id: str, *, same_event: bool = True, delivery: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sameEvent": same_event}
        if delivery is not None:
            body["delivery"] = delivery
        deliveries: list[dict[str, Any]] = self._call("POST", f"/orders/{order_id}/webhooks", body)[
            "deliveries"
        ]
        return deliveries

    def deliveries(
        self, order_id: str | None = None, event_id: str | None = None
    ) -> dict[str, Any]:
        """``{"settled": bool, "deliveries": [...]}`` with every attempt's time and status."""
        return self._call("GET", "/deliveries", query=_query(order_id, event_id))

    def wait_for_deliveries(
        self, order_id: str | None = None, event_id: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The deliveries once none is pending (each delivered, failed or canceled)."""
        query = {**_query(order_id, event_id), "waitSeconds": str(timeout)}
        answer = self._call(
            "GET", "/deliveries", query=query, timeout=timeout + _WAIT_MARGIN_SECONDS
        )
        if not answer["settled"]:
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s")
        deliveries: list[dict[str, Any]] = answer["deliveries"]
        return deliveries

    def expire_tokens(self, instance_id: str | None = None) -> int:
        body = {} if instance_id is None else {"instanceId": instance_id}
        expired: int = self._call("POST", "/tokens/expire", body)["expired"]
        return expired

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "/faults")

    def set_faults(
        self, endpoints: Mapping[str, Mapping[str, object]], seed: int | None = None
    ) -> dict[str, Any]:
        """Replace the fault plan, e.g. ``set_faults({"create": {"errorRate": 0.2}}, seed=7)``."""
        body: dict[str, Any] = {"endpoints": endpoints}
        if seed is not None:
            body["seed"] = seed
        return self._call("POST", "/faults", body)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "/faults")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def reset(self, *, data: bool = False) -> None:
        self._call("POST", "/reset", {"data": data})

    def carrier_label(self, shipment: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return self._call(
            "POST", "/carrier/labels", shipment, headers={"Idempotency-Key": idempotency_key}
        )

    def _call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Every control API answer is a JSON object."""
        url = f"{self.base_url}/_sandbox{path}"
        if query:
            url = f"{url}?{urlencode(query)}"
        response = self._http.request(
            method,
            url,
            body=None if body is None else json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=timeout or self._timeout_seconds,
        )
        answer = json.loads(response.data) if response.data else {}
        if response.status >= 400:
            raise SandboxControlError(response.status, answer)
        if not isinstance(answer, dict):
            raise SandboxControlError(response.status, answer)
        return answer


def _query(order_id: str | None, event_id: str | None) -> dict[str, str]:
    query = {}
    if order_id is not None:
        query["orderId"] = order_id
    if event_id is not None:
        query["eventId"] = event_id
    return query
