"""The sandbox's own endpoints (``/_sandbox/...``), which Wix does not have: tests, the local stack
and the demo use them to install sites, place orders, deliver webhooks, inject faults and read
what a client really did.

They need no token, meet no rate limit and no faults, except the carrier label endpoint, which
stands for an outside service and can be made to fail like one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any, Final

from infra.wix_sandbox.carrier import CarrierService
from infra.wix_sandbox.config import SandboxConfig
from infra.wix_sandbox.errors import validation_error
from infra.wix_sandbox.faults import FaultInjector, parse_fault_plan
from infra.wix_sandbox.fulfillment_rules import APPROVED, MAX_QUANTITY
from infra.wix_sandbox.order_factory import MAX_GENERATED_LINE_ITEMS, OrderKind, generated_order
from infra.wix_sandbox.orders import Orders
from infra.wix_sandbox.parsing import (
    NOT_A_JSON_OBJECT,
    count,
    flag,
    is_guid,
    json_object,
    known_settings,
    optional_json_object,
    positive_number,
)
from infra.wix_sandbox.rate_limit import SlidingWindowRateLimiter
from infra.wix_sandbox.routing import Handler, Route
from infra.wix_sandbox.server import Request, Response
from infra.wix_sandbox.sites import Sites
from infra.wix_sandbox.stats import Stats
from infra.wix_sandbox.webhooks import (
    Delivery,
    DeliveryPlan,
    WebhookDispatcher,
    loopback_webhook_url,
)

CONTROL_PREFIX: Final = "/_sandbox"
MAX_GENERATED_ORDERS: Final = 1000
MAX_WAIT_SECONDS: Final = 120.0
FIRST_ORDER_NUMBER: Final = 10001
_SETTINGS: Final = frozenset(
    {
        "webhookUrl",
        "rateLimitPerMinute",
        "resendCompression",
        "carrierProvider",
        "tokenLifetimeSeconds",
    }
)


class ControlApi:
    """The control routes over the sandbox's parts; ``config`` is what a reset goes back to."""

    def __init__(
        self,
        *,
        config: SandboxConfig,
        public_key_pem: str,
        stats: Stats,
        sites: Sites,
        orders: Orders,
        faults: FaultInjector,
        rate_limiter: SlidingWindowRateLimiter,
        dispatcher: WebhookDispatcher,
        carrier: CarrierService,
    ) -> None:
        self._config = config
        self._public_key_pem = public_key_pem
        self._stats = stats
        self._sites = sites
        self._orders = orders
        self._faults = faults
        self._rate_limiter = rate_limiter
        self._dispatcher = dispatcher
        self._carrier = carrier
        self._order_numbers = itertools.count(FIRST_ORDER_NUMBER)

    def routes(self) -> list[Route]:
        order = "/orders/(?P<order_id>[^/]+)"
        return [
            _route("GET", "/health", "health", self._health),
            _route("GET", "/public-key", "publicKey", self._public_key),
            _route("GET", "/config", "config", self._describe_config),
            _route("PATCH", "/config", "config", self._change_config),
            _route("GET", "/sites", "sites", self._site_ids),
            _route("POST", "/sites", "sites", self._create_site),
            _route("GET", "/orders", "orders", self._order_summaries),
            _route("POST", "/orders", "orders", self._create_orders),
            _route("GET", order, "order", self._order),
            _route("PATCH", order, "order", self._change_order),
            _route("POST", f"{order}/webhooks", "webhooks", self._send_webhooks),
            _route("GET", "/deliveries", "deliveries", self._deliveries),
            _route("POST", "/tokens/expire", "tokens", self._expire_tokens),
            _route("GET", "/faults", "faults", self._describe_faults),
            _route("POST", "/faults", "faults", self._set_faults),
            _route("DELETE", "/faults", "faults", self._clear_faults),
            _route("GET", "/stats", "stats", self._snapshot),
            _route("POST", "/reset", "reset", self._reset),
            _route("POST", "/carrier/labels", "carrier", self._carrier_label),
        ]

    def _health(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, {"status": "ok", "appId": self._config.app_id})

    def _public_key(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response(200, self._public_key_pem.encode("ascii"), "application/x-pem-file")

    def _describe_config(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(
            200,
            {
                "appId": self._config.app_id,
                "webhookUrl": self._dispatcher.webhook_url,
                "rateLimitPerMinute": self._rate_limiter.limit,
                "rateLimitWindowSeconds": self._rate_limiter.window_seconds,
                "tokenLifetimeSeconds": self._sites.token_lifetime_seconds,
                "resendCompression": self._dispatcher.compression,
                "webhookTimeoutSeconds": self._dispatcher.timeout_seconds,
                "carrierProvider": self._carrier.provider,
                "faultSeed": self._config.fault_seed,
            },
        )

    def _change_config(self, request: Request, parameters: Mapping[str, str]) -> Response:
        changes = _body(request)
        known_settings(changes, _SETTINGS, "body")
        if "webhookUrl" in changes:
            url = changes["webhookUrl"]
            self._dispatcher.webhook_url = None if url is None else loopback_webhook_url(url)
        if "rateLimitPerMinute" in changes:
            self._rate_limiter.limit = count(changes["rateLimitPerMinute"], "rateLimitPerMinute")
        if "resendCompression" in changes:
            self._dispatcher.compression = positive_number(
                changes["resendCompression"], "resendCompression"
            )
        if "tokenLifetimeSeconds" in changes:
            self._sites.token_lifetime_seconds = positive_number(
                changes["tokenLifetimeSeconds"], "tokenLifetimeSeconds"
            )
        if "carrierProvider" in changes:
            provider = changes["carrierProvider"]
            if not isinstance(provider, str) or not 1 <= len(provider) <= 100:
                raise validation_error("carrierProvider", "1 to 100 characters")
            self._carrier.provider = provider
        return self._describe_config(request, parameters)

    def _site_ids(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, {"instanceIds": self._sites.instance_ids()})

    def _create_site(self, request: Request, parameters: Mapping[str, str]) -> Response:
        instance_id = optional_json_object(request.json()).get("instanceId")
        if instance_id is not None and not isinstance(instance_id, str):
            raise validation_error("instanceId", "must be a GUID")
        return Response.json(201, {"instanceId": self._sites.create(instance_id)})

    def _order_summaries(self, request: Request, parameters: Mapping[str, str]) -> Response:
        summaries = self._orders.summaries(request.query.get("instanceId"))
        return Response.json(200, {"orders": summaries})

    def _create_orders(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Store orders (given, or generated) and deliver order_approved for the APPROVED ones."""
        body = _body(request)
        given, generate = body.get("order"), body.get("generate")
        if (given is None) == (generate is None):
            raise validation_error("order", "give either 'order' (a Wix order) or 'generate'")
        documents = [given] if given is not None else self._generated_orders(generate)
        event_id = body.get("eventId")
        if event_id is not None and (not is_guid(event_id) or len(documents) != 1):
            raise validation_error("eventId", "a GUID, for a single order only")
        plan = DeliveryPlan.from_json(body.get("delivery"))
        deliver = flag(body.get("deliverWebhook", True), "deliverWebhook")
        instance_id = body.get("instanceId")
        stored = [
            self._orders.add(instance_id, document, body.get("prefulfilled"))
            for document in documents
        ]
        deliveries: list[dict[str, Any]] = []
        approved = [order for order in stored if order["status"] == APPROVED]
        if deliver and approved and self._dispatcher.webhook_url is not None:
            events = [
                self._dispatcher.new_event(str(instance_id), order, event_id) for order in approved
            ]
            deliveries = [_delivery_reference(d) for d in self._dispatcher.deliver(events, plan)]
        return Response.json(201, {"orders": stored, "deliveries": deliveries})

    def _generated_orders(self, spec: object) -> list[dict[str, Any]]:
        settings = json_object(spec, "generate", NOT_A_JSON_OBJECT)
        try:
            kind = OrderKind(settings.get("kind", OrderKind.PHYSICAL.value))
        except ValueError as error:
            kinds = ", ".join(kind.value for kind in OrderKind)
            raise validation_error("generate.kind", f"one of {kinds}") from error
        line_items = count(settings.get("lineItems", 1), "generate.lineItems")
        quantity = count(settings.get("quantity", 1), "generate.quantity")
        orders = count(settings.get("count", 1), "generate.count")
        if line_items > MAX_GENERATED_LINE_ITEMS:
            raise validation_error("generate.lineItems", f"at most {MAX_GENERATED_LINE_ITEMS}")
        if kind is OrderKind.MIXED and line_items < 2:
            raise validation_error("generate.lineItems", "a mixed order needs at least 2")
        if quantity > MAX_QUANTITY:
            raise validation_error("generate.quantity", f"at most {MAX_QUANTITY}")
        if orders > MAX_GENERATED_ORDERS:
            raise validation_error("generate.count", f"at most {MAX_GENERATED_ORDERS}")
        return [
            generated_order(kind, line_items, quantity, next(self._order_numbers))
            for _ in range(orders)
        ]

    def _order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self._orders.view(parameters["order_id"]))

    def _change_order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(
            200, {"order": self._orders.change(parameters["order_id"], _body(request))}
        )

    def _send_webhooks(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Deliver an order's event again (``sameEvent``: the same event id and bytes) or anew."""
        settings = optional_json_object(request.json())
        same_event = flag(settings.get("sameEvent", True), "sameEvent")
        plan = DeliveryPlan.from_json(settings.get("delivery"))
        order_id = parameters["order_id"]
        if same_event:
            event = self._dispatcher.latest_event(order_id)
        else:
            instance_id, order = self._orders.owner(order_id)
            event = self._dispatcher.new_event(instance_id, order)
        deliveries = self._dispatcher.deliver([event], plan)
        return Response.json(202, {"deliveries": [_delivery_reference(d) for d in deliveries]})

    def _deliveries(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """``?orderId=&eventId=&waitSeconds=``: with a wait, answers once they have settled."""
        order_id, event_id = request.query.get("orderId"), request.query.get("eventId")
        wait = request.query.get("waitSeconds")
        settled = True
        if wait is not None:
            try:
                seconds = min(float(wait), MAX_WAIT_SECONDS)
            except ValueError as error:
                raise validation_error("waitSeconds", "must be a number") from error
            settled = self._dispatcher.wait_settled(order_id, event_id, seconds)
        deliveries = self._dispatcher.deliveries(order_id, event_id)
        settled = settled and all(delivery["state"] != "pending" for delivery in deliveries)
        return Response.json(200, {"settled": settled, "deliveries": deliveries})

    def _expire_tokens(self, request: Request, parameters: Mapping[str, str]) -> Response:
        instance_id = optional_json_object(request.json()).get("instanceId")
        if instance_id is not None and not isinstance(instance_id, str):
            raise validation_error("instanceId", "must be a string")
        return Response.json(200, {"expired": self._sites.expire_tokens(instance_id)})

    def _describe_faults(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self._faults.describe())

    def _set_faults(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Replace the whole fault plan; every endpoint's sequence restarts from the seed."""
        body = _body(request)
        seed = body.get("seed", self._config.fault_seed)
        if type(seed) is not int:
            raise validation_error("seed", "must be a whole number")
        self._faults.configure(seed, parse_fault_plan(body.get("endpoints", {})))
        return Response.json(200, self._faults.describe())

    def _clear_faults(self, request: Request, parameters: Mapping[str, str]) -> Response:
        self._faults.configure(self._config.fault_seed, {})
        return Response.json(200, self._faults.describe())

    def _snapshot(self, request: Request, parameters: Mapping[str, str]) -> Response:
        snapshot = self._stats.snapshot()
        snapshot["webhooks"]["pending"] = self._dispatcher.pending_count()
        return Response.json(200, snapshot)

    def _reset(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Back to how the sandbox started: stats, faults (the start's plan), rate windows; with
        ``{"data": true}`` also sites, orders, tokens, labels and the delivery record."""
        data = flag(optional_json_object(request.json()).get("data", False), "data")
        self._stats.reset()
        self._faults.configure(self._config.fault_seed, self._config.faults)
        self._rate_limiter.reset()
        if data:
            self._orders.reset()
            self._carrier.reset()
            self._dispatcher.forget()
        return Response.json(200, {"reset": True, "data": data})

    def _carrier_label(self, request: Request, parameters: Mapping[str, str]) -> Response:
        label, issued = self._carrier.label(request.headers.get("idempotency-key"), request.json())
        if issued:
            self._stats.add("carrierLabelsIssued")
            return Response.json(201, label)
        return Response.json(200, label, headers={"Idempotent-Replayed": "true"})


def _route(method: str, path: str, endpoint: str, handler: Handler) -> Route:
    return Route(
        method,
        re.compile(CONTROL_PREFIX + path),
        endpoint,
        handler,
        needs_token=False,
        wix_api=False,
    )


def _body(request: Request) -> Mapping[str, Any]:
    return json_object(request.json(), "body", NOT_A_JSON_OBJECT)


def _delivery_reference(delivery: Delivery) -> dict[str, str]:
    return {
        "deliveryId": delivery.delivery_id,
        "eventId": delivery.event.event_id,
        "orderId": str(delivery.event.order["id"]),
    }
