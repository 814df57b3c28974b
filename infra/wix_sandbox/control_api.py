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
from infra.wix_sandbox.order_factory import (
    MAX_GENERATED_LINE_ITEMS,
    OTHER_FULFILLER_ID,
    OrderKind,
    OrderTraits,
    generated_order,
)
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
    whole_number,
)
from infra.wix_sandbox.rate_limit import SlidingWindowRateLimiter
from infra.wix_sandbox.routing import Handler, Route
from infra.wix_sandbox.server import Request, Response
from infra.wix_sandbox.sites import Sites
from infra.wix_sandbox.stats import Stats
from infra.wix_sandbox.webhooks import (
    ORDER_EVENT_SLUGS,
    Delivery,
    DeliveryPlan,
    EventType,
    WebhookDispatcher,
    WebhookEvent,
    loopback_webhook_url,
)

CONTROL_PREFIX: Final = "/_sandbox"
_CHANGE_SETTINGS: Final = frozenset(
    {"status", "paymentStatus", "refunds", "deliverWebhook", "delivery"}
)
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
        "webhookTokenLifetimeSeconds",
        "webhookPrettyJson",
    }
)
_GENERATE_SETTINGS: Final = frozenset(
    {
        "kind",
        "lineItems",
        "quantity",
        "count",
        "paymentStatus",
        "pickup",
        "otherFulfillerLines",
        "fulfillerId",
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
            _route("DELETE", "/sites/(?P<instance_id>[^/]+)", "sites", self._remove_site),
            _route("GET", "/orders", "orders", self._order_summaries),
            _route("POST", "/orders", "orders", self._create_orders),
            _route("GET", order, "order", self._order),
            _route("PATCH", order, "order", self._change_order),
            _route("POST", f"{order}/webhooks", "webhooks", self._send_webhooks),
            _route("GET", "/deliveries", "deliveries", self._deliveries),
            _route("POST", "/webhooks/lose", "webhooks", self._lose_webhooks),
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
                "webhookTokenLifetimeSeconds": self._dispatcher.token_lifetime_seconds,
                "webhookPrettyJson": self._dispatcher.pretty_json,
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
        if "webhookTokenLifetimeSeconds" in changes:
            lifetime = changes["webhookTokenLifetimeSeconds"]
            self._dispatcher.token_lifetime_seconds = (
                None
                if lifetime is None
                else positive_number(lifetime, "webhookTokenLifetimeSeconds")
            )
        if "webhookPrettyJson" in changes:
            self._dispatcher.pretty_json = flag(changes["webhookPrettyJson"], "webhookPrettyJson")
        if "carrierProvider" in changes:
            provider = changes["carrierProvider"]
            if not isinstance(provider, str) or not 1 <= len(provider) <= 100:
                raise validation_error("carrierProvider", "1 to 100 characters")
            self._carrier.provider = provider
        return self._describe_config(request, parameters)

    def _site_ids(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, {"instanceIds": self._sites.instance_ids()})

    def _create_site(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Install the app on a site; with ``deliverWebhook``, Wix's App Instance Installed
        webhook is sent (``originInstanceId``: the site it was duplicated from)."""
        body = optional_json_object(request.json())
        instance_id, origin = body.get("instanceId"), body.get("originInstanceId")
        if instance_id is not None and not isinstance(instance_id, str):
            raise validation_error("instanceId", "must be a GUID")
        if origin is not None and not is_guid(origin):
            raise validation_error("originInstanceId", "must be a GUID")
        deliver = flag(body.get("deliverWebhook", False), "deliverWebhook")
        plan = DeliveryPlan.from_json(body.get("delivery"))
        installed = self._sites.create(instance_id)
        deliveries: list[dict[str, Any]] = []
        if deliver:
            data = {"appId": self._config.app_id}
            if origin is not None:
                data["originInstanceId"] = origin
            event = self._dispatcher.app_event(EventType.APP_INSTALLED, installed, data)
            deliveries = self._deliver([event], plan)
        return Response.json(201, {"instanceId": installed, "deliveries": deliveries})

    def _remove_site(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Uninstall the app (its tokens refused from now on) and send App Instance Removed,
        unless ``deliverWebhook`` is false."""
        body = optional_json_object(request.json())
        deliver = flag(body.get("deliverWebhook", True), "deliverWebhook")
        plan = DeliveryPlan.from_json(body.get("delivery"))
        instance_id = parameters["instance_id"]
        self._sites.remove(instance_id)
        deliveries: list[dict[str, Any]] = []
        if deliver:
            event = self._dispatcher.app_event(
                EventType.APP_REMOVED, instance_id, {"appId": self._config.app_id}
            )
            deliveries = self._deliver([event], plan)
        return Response.json(200, {"instanceId": instance_id, "deliveries": deliveries})

    def _order_summaries(self, request: Request, parameters: Mapping[str, str]) -> Response:
        summaries = self._orders.summaries(request.query.get("instanceId"))
        return Response.json(200, {"orders": summaries})

    def _create_orders(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Store orders (given, or generated) and deliver order_approved for the APPROVED ones:
        ``holdWebhook`` makes the event but keeps it (``POST orders/{id}/webhooks`` sends it
        later, after a payment or cancellation, say); ``loseWebhooks`` loses every webhook of
        these orders for good."""
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
        hold = flag(body.get("holdWebhook", False), "holdWebhook")
        lose = flag(body.get("loseWebhooks", False), "loseWebhooks")
        instance_id = body.get("instanceId")
        stored = [
            self._orders.add(instance_id, document, body.get("prefulfilled"))
            for document in documents
        ]
        if lose:
            self._dispatcher.lose([order["id"] for order in stored])
        deliveries: list[dict[str, Any]] = []
        approved = [order for order in stored if order["status"] == APPROVED]
        if (deliver or hold) and approved:
            events = [
                self._dispatcher.new_event(str(instance_id), order, event_id) for order in approved
            ]
            if hold:
                self._dispatcher.hold(events)
            else:
                deliveries = self._deliver(events, plan)
        return Response.json(201, {"orders": stored, "deliveries": deliveries})

    def _generated_orders(self, spec: object) -> list[dict[str, Any]]:
        settings = json_object(spec, "generate", NOT_A_JSON_OBJECT)
        known_settings(settings, _GENERATE_SETTINGS, "generate")
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
        traits = _order_traits(settings, line_items)
        return [
            generated_order(kind, line_items, quantity, next(self._order_numbers), traits)
            for _ in range(orders)
        ]

    def _order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self._orders.view(parameters["order_id"]))

    def _change_order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Change an order as its merchant or buyer would, and send what Wix sends for it:
        Order Canceled when it is canceled now, Order Payment Status Updated when its payment
        status changed (a refund changes it too); ``deliverWebhook`` false sends nothing (the
        events are kept: ``POST orders/{id}/webhooks`` sends them later)."""
        body = _body(request)
        known_settings(body, _CHANGE_SETTINGS, "body")
        deliver = flag(body.get("deliverWebhook", True), "deliverWebhook")
        plan = DeliveryPlan.from_json(body.get("delivery"))
        change = self._orders.change(parameters["order_id"], body)
        events = []
        if change.canceled:
            events.append(
                self._dispatcher.order_event(
                    EventType.ORDER_CANCELED,
                    change.instance_id,
                    change.order,
                    {"restockAllItems": False},
                )
            )
        if change.previous_payment_status is not None:
            events.append(
                self._dispatcher.order_event(
                    EventType.ORDER_PAYMENT_STATUS_UPDATED,
                    change.instance_id,
                    change.order,
                    {"previousPaymentStatus": change.previous_payment_status},
                )
            )
        deliveries: list[dict[str, Any]] = []
        if deliver:
            deliveries = self._deliver(events, plan)
        else:
            self._dispatcher.hold(events)
        return Response.json(200, {"order": change.order, "deliveries": deliveries})

    def _send_webhooks(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Deliver an order's latest event of a type (``eventType``, Order Approved unless told)
        again, or a held one (``sameEvent``: the same event id and bytes); or a new approval of
        the order as it is now (``sameEvent`` false)."""
        settings = optional_json_object(request.json())
        same_event = flag(settings.get("sameEvent", True), "sameEvent")
        plan = DeliveryPlan.from_json(settings.get("delivery"))
        try:
            event_type = EventType(settings.get("eventType", EventType.ORDER_APPROVED.value))
        except ValueError as error:
            kinds = ", ".join(ORDER_EVENT_SLUGS)
            raise validation_error("eventType", f"one of {kinds}") from error
        if event_type not in ORDER_EVENT_SLUGS:
            raise validation_error("eventType", "an order event")
        order_id = parameters["order_id"]
        if same_event:
            event = self._dispatcher.latest_event(order_id, event_type)
        elif event_type is EventType.ORDER_APPROVED:
            instance_id, order = self._orders.owner(order_id)
            event = self._dispatcher.new_event(instance_id, order)
        else:
            raise validation_error("sameEvent", "only an approval is made anew")
        deliveries = self._dispatcher.deliver([event], plan)
        return Response.json(202, {"deliveries": [_delivery_reference(d) for d in deliveries]})

    def _lose_webhooks(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """``{"orderIds": [...]}``: these orders' webhooks are lost for good from now on (pending
        ones not resent, later ones never sent); the orders themselves stay at Wix."""
        order_ids = _body(request).get("orderIds")
        if not isinstance(order_ids, list) or not all(is_guid(each) for each in order_ids):
            raise validation_error("orderIds", "must list order ids (GUIDs)")
        return Response.json(200, {"pendingLost": self._dispatcher.lose(order_ids)})

    def _deliver(self, events: list[WebhookEvent], plan: DeliveryPlan) -> list[dict[str, Any]]:
        """Send events when a webhook URL is set; without one there is nobody to tell, and the
        events are kept to be sent later."""
        if not events:
            return []
        if self._dispatcher.webhook_url is None:
            self._dispatcher.hold(events)
            return []
        return [_delivery_reference(d) for d in self._dispatcher.deliver(events, plan)]

    def _deliveries(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """``?orderId=&eventId=&instanceId=&waitSeconds=``: with a wait, answers once they have
        settled."""
        order_id, event_id = request.query.get("orderId"), request.query.get("eventId")
        instance_id = request.query.get("instanceId")
        wait = request.query.get("waitSeconds")
        settled = True
        if wait is not None:
            try:
                seconds = min(float(wait), MAX_WAIT_SECONDS)
            except ValueError as error:
                raise validation_error("waitSeconds", "must be a number") from error
            settled = self._dispatcher.wait_settled(order_id, event_id, seconds, instance_id)
        deliveries = self._dispatcher.deliveries(order_id, event_id, instance_id)
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


def _delivery_reference(delivery: Delivery) -> dict[str, Any]:
    return {
        "deliveryId": delivery.delivery_id,
        "eventId": delivery.event.event_id,
        "eventType": delivery.event.event_type.value,
        "orderId": delivery.event.order_id,
        "state": delivery.state.value,
    }


def _order_traits(settings: Mapping[str, Any], line_items: int) -> OrderTraits:
    payment = settings.get("paymentStatus", "PAID")
    if not isinstance(payment, str) or not payment:
        raise validation_error("generate.paymentStatus", "a payment status, e.g. NOT_PAID")
    others = settings.get("otherFulfillerLines", 0)
    if not whole_number(others, 0, line_items):
        raise validation_error("generate.otherFulfillerLines", f"0 to {line_items}")
    fulfiller = settings.get("fulfillerId", OTHER_FULFILLER_ID)
    if not isinstance(fulfiller, str) or not fulfiller:
        raise validation_error("generate.fulfillerId", "a fulfiller (app) id")
    pickup = flag(settings.get("pickup", False), "generate.pickup")
    return OrderTraits(payment, pickup, others, fulfiller)
