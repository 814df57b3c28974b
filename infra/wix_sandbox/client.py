"""A client of the sandbox's control API, for tests, the local stack, the demo and benchmarks.

It speaks HTTP, so it works the same for a sandbox in this process and one in a subprocess. It
does not wrap Wix's own routes: those are for the code under test to call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
        """Install the app on a site without telling anyone (no webhook)."""
        body = {} if instance_id is None else {"instanceId": instance_id}
        instance: str = self._call("POST", "/sites", body)["instanceId"]
        return instance

    def install_site(
        self,
        instance_id: str | None = None,
        *,
        origin_instance_id: str | None = None,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Install the app and send Wix's App Instance Installed webhook (``originInstanceId``:
        the site this one was duplicated from): ``{"instanceId", "deliveries"}``."""
        body: dict[str, Any] = {"deliverWebhook": True}
        for name, value in (
            ("instanceId", instance_id),
            ("originInstanceId", origin_instance_id),
            ("delivery", delivery),
        ):
            if value is not None:
                body[name] = value
        return self._call("POST", "/sites", body)

    def remove_site(
        self,
        instance_id: str,
        *,
        deliver_webhook: bool = True,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Uninstall the app (its tokens are refused from now on) and send App Instance Removed:
        ``{"instanceId", "deliveries"}``."""
        body: dict[str, Any] = {"deliverWebhook": deliver_webhook}
        if delivery is not None:
            body["delivery"] = delivery
        return self._call("DELETE", f"/sites/{instance_id}", body)

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
        hold_webhook: bool = False,
        lose_webhooks: bool = False,
    ) -> dict[str, Any]:
        """``{"orders": [...], "deliveries": [{deliveryId, eventId, eventType, orderId,
        state}]}``. ``hold_webhook``: the approval is made now and sent only when asked
        (``send_webhooks``); ``lose_webhooks``: every webhook of these orders is lost for good.
        ``generate`` also takes ``paymentStatus`` (e.g. NOT_PAID), ``pickup``,
        ``otherFulfillerLines`` and ``fulfillerId``."""
        body: dict[str, Any] = {
            "instanceId": instance_id,
            "deliverWebhook": deliver_webhook,
            "holdWebhook": hold_webhook,
            "loseWebhooks": lose_webhooks,
        }
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
        deliver_webhook: bool = True,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Cancel it, change its payment status, refund units of lines (``{line id: units}``;
        the payment status follows unless given); returns the order. Wix's webhooks for it
        (Order Canceled, Order Payment Status Updated) are sent when a webhook URL is set,
        unless ``deliver_webhook`` is false: then they are kept for ``send_webhooks``."""
        order: dict[str, Any] = self.change_order_with_deliveries(
            order_id,
            status=status,
            payment_status=payment_status,
            refunds=refunds,
            deliver_webhook=deliver_webhook,
            delivery=delivery,
        )["order"]
        return order

    def change_order_with_deliveries(
        self,
        order_id: str,
        *,
        status: str | None = None,
        payment_status: str | None = None,
        refunds: Mapping[str, int] | None = None,
        deliver_webhook: bool = True,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``change_order``'s whole answer: ``{"order", "deliveries"}``."""
        changes: dict[str, Any] = {"deliverWebhook": deliver_webhook}
        for name, value in (
            ("status", status),
            ("paymentStatus", payment_status),
            ("refunds", None if refunds is None else dict(refunds)),
            ("delivery", delivery),
        ):
            if value is not None:
                changes[name] = value
        return self._call("PATCH", f"/orders/{order_id}", changes)

    def cancel_order(
        self,
        order_id: str,
        *,
        deliver_webhook: bool = True,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Cancel it (Order Canceled is sent); returns the order."""
        return self.change_order(
            order_id, status="CANCELED", deliver_webhook=deliver_webhook, delivery=delivery
        )

    def refund(
        self,
        order_id: str,
        refunds: Mapping[str, int],
        *,
        deliver_webhook: bool = True,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Refund units of lines (``{line id: units}``): PARTIALLY_REFUNDED, or FULLY_REFUNDED
        once every unit is; Order Payment Status Updated is sent. Returns the order."""
        return self.change_order(
            order_id, refunds=refunds, deliver_webhook=deliver_webhook, delivery=delivery
        )

    def set_payment_status(
        self,
        order_id: str,
        payment_status: str,
        *,
        deliver_webhook: bool = True,
        delivery: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """E.g. NOT_PAID -> PAID; Order Payment Status Updated is sent. Returns the order."""
        return self.change_order(
            order_id,
            payment_status=payment_status,
            deliver_webhook=deliver_webhook,
            delivery=delivery,
        )

    def lose_webhooks(self, order_ids: Sequence[str]) -> int:
        """These orders' webhooks are lost for good from now on (no delivery, no resend); the
        orders stay at Wix. Returns how many pending deliveries were lost."""
        lost: int = self._call("POST", "/webhooks/lose", {"orderIds": list(order_ids)})[
            "pendingLost"
        ]
        return lost

    def send_webhooks(
        self,
        order_id: str,
        *,
        same_event: bool = True,
        delivery: Mapping[str, Any] | None = None,
        event_type: str = "wix.ecom.v1.order_approved",
    ) -> list[dict[str, Any]]:
        """Send the order's latest event of ``event_type`` (held or sent before) again, or a new
        approval of the order as it is now (``same_event`` false)."""
        body: dict[str, Any] = {"sameEvent": same_event, "eventType": event_type}
        if delivery is not None:
            body["delivery"] = delivery
        deliveries: list[dict[str, Any]] = self._call("POST", f"/orders/{order_id}/webhooks", body)[
            "deliveries"
        ]
        return deliveries

    def deliveries(
        self,
        order_id: str | None = None,
        event_id: str | None = None,
        *,
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        """``{"settled": bool, "deliveries": [...]}`` with every attempt's time and status."""
        return self._call("GET", "/deliveries", query=_query(order_id, event_id, instance_id))

    def wait_for_deliveries(
        self,
        order_id: str | None = None,
        event_id: str | None = None,
        timeout: float = 10.0,
        *,
        instance_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """The deliveries once none is pending (each delivered, failed, canceled or lost)."""
        query = {**_query(order_id, event_id, instance_id), "waitSeconds": str(timeout)}
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


def _query(
    order_id: str | None, event_id: str | None, instance_id: str | None = None
) -> dict[str, str]:
    named = {"orderId": order_id, "eventId": event_id, "instanceId": instance_id}
    return {name: value for name, value in named.items() if value is not None}
