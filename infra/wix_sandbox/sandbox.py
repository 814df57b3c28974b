"""``WixSandbox``: Wix's REST routes and the sandbox's control API (``/_sandbox/...``) on one port.

A request to a Wix route meets, in this order: the endpoint's injected fault (if any), the access
token (401), the instance's rate limit (429), then the rules in ``state``. Control routes have no
token, no limit and no faults, except the carrier label endpoint, which is a (fake) outside service
and can be made to fail like one.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from infra.service import LocalService
from infra.wix_sandbox import errors
from infra.wix_sandbox.carrier import CarrierService
from infra.wix_sandbox.clock import Clock
from infra.wix_sandbox.config import LOOPBACK_HOST, SandboxConfig
from infra.wix_sandbox.errors import WixApiError, application_error, validation_error
from infra.wix_sandbox.faults import (
    FAULTABLE_ENDPOINTS,
    NO_FAULT,
    FaultInjector,
    FaultKind,
    parse_fault_plan,
)
from infra.wix_sandbox.keys import load_or_generate_private_key, public_key_pem
from infra.wix_sandbox.order_factory import MAX_GENERATED_LINE_ITEMS, OrderKind, generated_order
from infra.wix_sandbox.rate_limit import SlidingWindowRateLimiter
from infra.wix_sandbox.server import Request, Response, SandboxHTTPServer
from infra.wix_sandbox.state import APPROVED, MAX_QUANTITY, SandboxState, is_guid
from infra.wix_sandbox.stats import UNKNOWN_INSTANCE, Stats
from infra.wix_sandbox.webhooks import (
    Delivery,
    DeliveryPlan,
    WebhookDispatcher,
    loopback_webhook_url,
)

if TYPE_CHECKING:
    from infra.wix_sandbox.client import SandboxClient

CONTROL_PREFIX: Final = "/_sandbox"
MAX_GENERATED_ORDERS: Final = 1000
MAX_WAIT_SECONDS: Final = 120.0
FIRST_ORDER_NUMBER: Final = 10001

Handler = Callable[[Request, Mapping[str, str]], Response]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str  # its name in the stats and the fault plan
    handler: Handler
    needs_token: bool = False

    @property
    def wix_api(self) -> bool:
        """One of Wix's own routes (token and fulfillments), not the sandbox's control API."""
        return not self.pattern.pattern.startswith(CONTROL_PREFIX)


class WixSandbox(LocalService):
    """The sandbox in this process, served from a background thread; use as a context manager:
    ``with WixSandbox(SandboxConfig(webhook_url=url)) as wix:``, then ``wix.base_url`` is both
    Wix's REST base URL and the control API's host. ``clock`` is what rate windows and token
    lifetimes are measured on (a ``ManualClock`` lets a test step through them)."""

    def __init__(
        self, config: SandboxConfig | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        self.config = config = config or SandboxConfig()
        self.stats = Stats()
        private_key = load_or_generate_private_key(config.private_key_pem)
        self.public_key_pem = public_key_pem(private_key)
        self.state = SandboxState(
            app_id=config.app_id,
            app_secret=config.app_secret,
            token_lifetime_seconds=config.token_lifetime_seconds,
            stats=self.stats,
            clock=clock,
        )
        self.faults = FaultInjector(config.fault_seed, config.faults)
        self.rate_limiter = SlidingWindowRateLimiter(
            config.rate_limit_per_minute, config.rate_limit_window_seconds, clock
        )
        self.dispatcher = WebhookDispatcher(
            private_key=private_key,
            stats=self.stats,
            seed=config.fault_seed,
            webhook_url=config.webhook_url,
            compression=config.resend_compression,
            timeout_seconds=config.webhook_timeout_seconds,
        )
        self.carrier = CarrierService(config.carrier_provider, config.fault_seed)
        self._create_configured_sites()
        self._order_numbers = itertools.count(FIRST_ORDER_NUMBER)
        self._routes = self._build_routes()
        self._stopping = threading.Event()
        self._http: SandboxHTTPServer | None = None
        self._serving: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> WixSandbox:
        self._http = SandboxHTTPServer(self.config.port, self, verbose=self.config.verbose)
        self.dispatcher.start()
        self._serving = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="wix-sandbox-http",
            daemon=True,
        )
        self._serving.start()
        return self

    def stop(self) -> None:
        """Stop serving: held requests are released, open connections closed, threads joined."""
        self._stopping.set()
        http, self._http = self._http, None
        if http is not None:
            http.shutdown()
            http.close_connections()
            http.server_close()
        if self._serving is not None:
            self._serving.join()
            self._serving = None
        self.dispatcher.stop()

    @property
    def port(self) -> int:
        if self._http is None:
            raise RuntimeError("the sandbox is not running")
        port: int = self._http.server_address[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}"

    @property
    def app_id(self) -> str:
        return self.config.app_id

    @property
    def app_secret(self) -> str:
        return self.config.app_secret

    def client(self) -> SandboxClient:
        """A client of the control API (over HTTP, like any other process would use it)."""
        from infra.wix_sandbox.client import SandboxClient

        return SandboxClient(self.base_url)

    def wait_for_deliveries(
        self, order_id: str | None = None, event_id: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The deliveries (of an order, of an event, or all) once none is pending any more."""
        if not self.dispatcher.wait_settled(order_id, event_id, timeout):
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s")
        return self.dispatcher.deliveries(order_id, event_id)

    # --- request handling -------------------------------------------------------------------

    def handle(self, request: Request) -> Response | None:
        route, parameters = self._route(request)
        if route is None:
            return Response.error(application_error(404, errors.NOT_FOUND, "no such endpoint"))
        endpoint = route.endpoint
        instance_id = self._calling_instance(request, route)
        decision = (
            self.faults.decide(endpoint, instance_id)
            if endpoint in FAULTABLE_ENDPOINTS
            else NO_FAULT
        )
        if decision.kind is not FaultKind.NONE:
            self.stats.record_fault(endpoint, decision.kind.value)
        if decision.latency_seconds:
            self._stopping.wait(decision.latency_seconds)
        if decision.kind is FaultKind.TIMEOUT:
            self._stopping.wait(decision.hold_seconds)
            self._record(route, "timeout", instance_id)
            return None
        if decision.kind is FaultKind.ERROR:
            response = Response.error(
                application_error(decision.error_status, errors.INTERNAL, "internal error")
            )
        elif decision.kind is FaultKind.THROTTLE:
            response = Response.error(_too_many_requests())
        else:
            response = self._answer(route, request, parameters)
        if decision.kind is FaultKind.DROP:
            self._record(route, "dropped", instance_id)
            return None
        self._record(route, response.status, instance_id)
        return response

    def _calling_instance(self, request: Request, route: _Route) -> str | None:
        """The site a call is for (its token's, or the token request's): faults are scoped to
        sites and calls counted per site by it."""
        if route.needs_token:
            return self.state.instance_of_token(request.headers.get("authorization"))
        if route.endpoint == "token":
            with contextlib.suppress(WixApiError):
                body = request.json()
                if isinstance(body, Mapping) and isinstance(body.get("instance_id"), str):
                    return str(body["instance_id"])
        return None

    def _answer(self, route: _Route, request: Request, parameters: Mapping[str, str]) -> Response:
        try:
            if route.needs_token:
                instance_id = self.state.authenticate(request.headers.get("authorization"))
                if not self.rate_limiter.allow(instance_id):
                    self.stats.add("throttledByRateLimit")
                    raise _too_many_requests()
                parameters = {**parameters, "instance_id": instance_id}
            return route.handler(request, parameters)
        except WixApiError as error:
            return Response.error(error)

    def _record(self, route: _Route, outcome: int | str, instance_id: str | None) -> None:
        if route.endpoint in FAULTABLE_ENDPOINTS:
            site = (instance_id or UNKNOWN_INSTANCE) if route.wix_api else None
            self.stats.record_call(route.endpoint, outcome, site)

    def _route(self, request: Request) -> tuple[_Route | None, dict[str, str]]:
        for route in self._routes:
            if route.method == request.method:
                match = route.pattern.fullmatch(request.path)
                if match:
                    return route, match.groupdict()
        return None, {}

    def _build_routes(self) -> list[_Route]:
        fulfillments = "/ecom/v1/fulfillments"
        order = r"(?P<order_id>[^/]+)"
        fulfillment = r"(?P<fulfillment_id>[^/]+)"
        table: list[tuple[str, str, str, Handler, bool]] = [
            ("POST", "/oauth2/token", "token", self._token, False),
            (
                "POST",
                f"{fulfillments}/orders/bulk/create-fulfillments",
                "bulkCreate",
                self._bulk_create,
                True,
            ),
            (
                "POST",
                f"{fulfillments}/orders/{order}/create-fulfillment",
                "create",
                self._create,
                True,
            ),
            ("GET", f"{fulfillments}/orders/{order}", "list", self._list, True),
            ("POST", f"{fulfillments}/list-by-ids", "listByIds", self._list_by_ids, True),
            ("PATCH", f"{fulfillments}/{fulfillment}/orders/{order}", "update", self._update, True),
            (
                "DELETE",
                f"{fulfillments}/{fulfillment}/orders/{order}",
                "delete",
                self._delete,
                True,
            ),
            ("GET", f"{CONTROL_PREFIX}/health", "health", self._health, False),
            ("GET", f"{CONTROL_PREFIX}/public-key", "publicKey", self._public_key, False),
            ("GET", f"{CONTROL_PREFIX}/config", "config", self._config, False),
            ("PATCH", f"{CONTROL_PREFIX}/config", "config", self._change_config, False),
            ("GET", f"{CONTROL_PREFIX}/sites", "sites", self._sites, False),
            ("POST", f"{CONTROL_PREFIX}/sites", "sites", self._create_site, False),
            ("GET", f"{CONTROL_PREFIX}/orders", "orders", self._orders, False),
            ("POST", f"{CONTROL_PREFIX}/orders", "orders", self._create_orders, False),
            ("GET", f"{CONTROL_PREFIX}/orders/{order}", "order", self._order, False),
            ("PATCH", f"{CONTROL_PREFIX}/orders/{order}", "order", self._change_order, False),
            (
                "POST",
                f"{CONTROL_PREFIX}/orders/{order}/webhooks",
                "webhooks",
                self._send_webhooks,
                False,
            ),
            ("GET", f"{CONTROL_PREFIX}/deliveries", "deliveries", self._deliveries, False),
            ("POST", f"{CONTROL_PREFIX}/tokens/expire", "tokens", self._expire_tokens, False),
            ("GET", f"{CONTROL_PREFIX}/faults", "faults", self._faults, False),
            ("POST", f"{CONTROL_PREFIX}/faults", "faults", self._set_faults, False),
            ("DELETE", f"{CONTROL_PREFIX}/faults", "faults", self._clear_faults, False),
            ("GET", f"{CONTROL_PREFIX}/stats", "stats", self._stats, False),
            ("POST", f"{CONTROL_PREFIX}/reset", "reset", self._reset, False),
            ("POST", f"{CONTROL_PREFIX}/carrier/labels", "carrier", self._carrier_label, False),
        ]
        return [
            _Route(method, re.compile(path), endpoint, handler, needs_token)
            for method, path, endpoint, handler, needs_token in table
        ]

    # --- Wix's routes -----------------------------------------------------------------------

    def _token(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self.state.issue_token(request.json()))

    def _create(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self.state.create_fulfillment(
            parameters["instance_id"], parameters["order_id"], request.json()
        )
        return Response.json(200, answer)

    def _list(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self.state.list_fulfillments(parameters["instance_id"], parameters["order_id"])
        return Response.json(200, answer)

    def _list_by_ids(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self.state.list_by_ids(parameters["instance_id"], request.json()))

    def _bulk_create(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self.state.bulk_create(parameters["instance_id"], request.json()))

    def _update(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self.state.update_fulfillment(
            parameters["instance_id"],
            parameters["order_id"],
            parameters["fulfillment_id"],
            request.json(),
        )
        return Response.json(200, answer)

    def _delete(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self.state.delete_fulfillment(
            parameters["instance_id"], parameters["order_id"], parameters["fulfillment_id"]
        )
        return Response.json(200, answer)

    # --- the control API --------------------------------------------------------------------

    def _health(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, {"status": "ok", "appId": self.app_id})

    def _public_key(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response(200, self.public_key_pem.encode("ascii"), "application/x-pem-file")

    def _config(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self._describe_config())

    def _change_config(self, request: Request, parameters: Mapping[str, str]) -> Response:
        changes = _object(request.json())
        known = {
            "webhookUrl",
            "rateLimitPerMinute",
            "resendCompression",
            "carrierProvider",
            "tokenLifetimeSeconds",
        }
        unknown = set(changes) - known
        if unknown:
            raise validation_error("body", f"unknown settings: {', '.join(sorted(unknown))}")
        if "webhookUrl" in changes:
            url = changes["webhookUrl"]
            self.dispatcher.webhook_url = None if url is None else loopback_webhook_url(url)
        if "rateLimitPerMinute" in changes:
            self.rate_limiter.limit = _whole(changes["rateLimitPerMinute"], "rateLimitPerMinute")
        if "resendCompression" in changes:
            self.dispatcher.compression = _positive(
                changes["resendCompression"], "resendCompression"
            )
        if "tokenLifetimeSeconds" in changes:
            self.state.token_lifetime_seconds = _positive(
                changes["tokenLifetimeSeconds"], "tokenLifetimeSeconds"
            )
        if "carrierProvider" in changes:
            provider = changes["carrierProvider"]
            if not isinstance(provider, str) or not 1 <= len(provider) <= 100:
                raise validation_error("carrierProvider", "1 to 100 characters")
            self.carrier.provider = provider
        return Response.json(200, self._describe_config())

    def _describe_config(self) -> dict[str, Any]:
        return {
            "appId": self.app_id,
            "webhookUrl": self.dispatcher.webhook_url,
            "rateLimitPerMinute": self.rate_limiter.limit,
            "rateLimitWindowSeconds": self.rate_limiter.window_seconds,
            "tokenLifetimeSeconds": self.state.token_lifetime_seconds,
            "resendCompression": self.dispatcher.compression,
            "webhookTimeoutSeconds": self.dispatcher.timeout_seconds,
            "carrierProvider": self.carrier.provider,
            "faultSeed": self.config.fault_seed,
        }

    def _sites(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, {"instanceIds": self.state.sites()})

    def _create_site(self, request: Request, parameters: Mapping[str, str]) -> Response:
        body = request.json()
        instance_id = None if body is None else _object(body).get("instanceId")
        if instance_id is not None and not isinstance(instance_id, str):
            raise validation_error("instanceId", "must be a GUID")
        return Response.json(201, {"instanceId": self.state.create_site(instance_id)})

    def _orders(self, request: Request, parameters: Mapping[str, str]) -> Response:
        summaries = self.state.order_summaries(request.query.get("instanceId"))
        return Response.json(200, {"orders": summaries})

    def _create_orders(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Store orders (given, or generated) and deliver order_approved for the APPROVED ones."""
        body = _object(request.json())
        given, generate = body.get("order"), body.get("generate")
        if (given is None) == (generate is None):
            raise validation_error("order", "give either 'order' (a Wix order) or 'generate'")
        documents = [given] if given is not None else self._generated_orders(generate)
        event_id = body.get("eventId")
        if event_id is not None and (not is_guid(event_id) or len(documents) != 1):
            raise validation_error("eventId", "a GUID, for a single order only")
        plan = DeliveryPlan.from_json(body.get("delivery"))
        deliver = body.get("deliverWebhook", True)
        if not isinstance(deliver, bool):
            raise validation_error("deliverWebhook", "must be true or false")
        instance_id = body.get("instanceId")
        stored = [
            self.state.add_order(instance_id, document, body.get("prefulfilled"))
            for document in documents
        ]
        deliveries: list[dict[str, Any]] = []
        approved = [order for order in stored if order["status"] == APPROVED]
        if deliver and approved and self.dispatcher.webhook_url is not None:
            events = [
                self.dispatcher.new_event(str(instance_id), order, event_id) for order in approved
            ]
            deliveries = [_delivery_reference(d) for d in self.dispatcher.deliver(events, plan)]
        return Response.json(201, {"orders": stored, "deliveries": deliveries})

    def _generated_orders(self, spec: object) -> list[dict[str, Any]]:
        settings = _object(spec, "generate")
        try:
            kind = OrderKind(settings.get("kind", OrderKind.PHYSICAL.value))
        except ValueError as error:
            kinds = ", ".join(kind.value for kind in OrderKind)
            raise validation_error("generate.kind", f"one of {kinds}") from error
        line_items = _whole(settings.get("lineItems", 1), "generate.lineItems")
        quantity = _whole(settings.get("quantity", 1), "generate.quantity")
        count = _whole(settings.get("count", 1), "generate.count")
        if line_items > MAX_GENERATED_LINE_ITEMS:
            raise validation_error("generate.lineItems", f"at most {MAX_GENERATED_LINE_ITEMS}")
        if kind is OrderKind.MIXED and line_items < 2:
            raise validation_error("generate.lineItems", "a mixed order needs at least 2")
        if quantity > MAX_QUANTITY:
            raise validation_error("generate.quantity", f"at most {MAX_QUANTITY}")
        if count > MAX_GENERATED_ORDERS:
            raise validation_error("generate.count", f"at most {MAX_GENERATED_ORDERS}")
        return [
            generated_order(kind, line_items, quantity, next(self._order_numbers))
            for _ in range(count)
        ]

    def _order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self.state.order_view(parameters["order_id"]))

    def _change_order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        status = _object(request.json()).get("status")
        return Response.json(
            200, {"order": self.state.set_order_status(parameters["order_id"], status)}
        )

    def _send_webhooks(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Deliver an order's event again (``sameEvent``: the same event id and bytes) or anew."""
        body = request.json()
        settings = {} if body is None else _object(body)
        same_event = settings.get("sameEvent", True)
        if not isinstance(same_event, bool):
            raise validation_error("sameEvent", "must be true or false")
        plan = DeliveryPlan.from_json(settings.get("delivery"))
        order_id = parameters["order_id"]
        if same_event:
            event = self.dispatcher.latest_event(order_id)
        else:
            instance_id, order = self.state.order_owner(order_id)
            event = self.dispatcher.new_event(instance_id, order)
        deliveries = self.dispatcher.deliver([event], plan)
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
            settled = self.dispatcher.wait_settled(order_id, event_id, seconds)
        deliveries = self.dispatcher.deliveries(order_id, event_id)
        settled = settled and all(delivery["state"] != "pending" for delivery in deliveries)
        return Response.json(200, {"settled": settled, "deliveries": deliveries})

    def _expire_tokens(self, request: Request, parameters: Mapping[str, str]) -> Response:
        body = request.json()
        instance_id = None if body is None else _object(body).get("instanceId")
        if instance_id is not None and not isinstance(instance_id, str):
            raise validation_error("instanceId", "must be a string")
        return Response.json(200, {"expired": self.state.expire_tokens(instance_id)})

    def _faults(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self.faults.describe())

    def _set_faults(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Replace the whole fault plan; every endpoint's sequence restarts from the seed."""
        body = _object(request.json())
        seed = body.get("seed", self.config.fault_seed)
        if type(seed) is not int:
            raise validation_error("seed", "must be a whole number")
        self.faults.configure(seed, parse_fault_plan(body.get("endpoints", {})))
        return Response.json(200, self.faults.describe())

    def _clear_faults(self, request: Request, parameters: Mapping[str, str]) -> Response:
        self.faults.configure(self.config.fault_seed, {})
        return Response.json(200, self.faults.describe())

    def _stats(self, request: Request, parameters: Mapping[str, str]) -> Response:
        snapshot = self.stats.snapshot()
        snapshot["webhooks"]["pending"] = self.dispatcher.pending_count()
        return Response.json(200, snapshot)

    def _reset(self, request: Request, parameters: Mapping[str, str]) -> Response:
        """Back to how the sandbox started: stats, faults (the start's plan), rate windows; with
        ``{"data": true}`` also sites, orders, tokens, labels and the delivery record."""
        body = request.json()
        data = False if body is None else _object(body).get("data", False)
        if not isinstance(data, bool):
            raise validation_error("data", "must be true or false")
        self.stats.reset()
        self.faults.configure(self.config.fault_seed, self.config.faults)
        self.rate_limiter.reset()
        if data:
            self.state.reset()
            self.carrier.reset()
            self.dispatcher.forget()
            self._create_configured_sites()
        return Response.json(200, {"reset": True, "data": data})

    def _carrier_label(self, request: Request, parameters: Mapping[str, str]) -> Response:
        label, issued = self.carrier.label(request.headers.get("idempotency-key"), request.json())
        if issued:
            self.stats.add("carrierLabelsIssued")
            return Response.json(201, label)
        return Response.json(200, label, headers={"Idempotent-Replayed": "true"})

    def _create_configured_sites(self) -> None:
        for instance_id in self.config.sites:
            self.state.create_site(instance_id)


def _too_many_requests() -> WixApiError:
    return application_error(
        429, errors.TOO_MANY_REQUESTS, "rate limit exceeded for this app instance"
    )


def _delivery_reference(delivery: Delivery) -> dict[str, str]:
    return {
        "deliveryId": delivery.delivery_id,
        "eventId": delivery.event.event_id,
        "orderId": str(delivery.event.order["id"]),
    }


def _object(value: object, where: str = "body") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise validation_error(where, "must be a JSON object")
    return value


def _whole(value: object, where: str) -> int:
    if type(value) is not int or value < 1:
        raise validation_error(where, "must be a whole number of at least 1")
    return value


def _positive(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise validation_error(where, "must be a number above 0")
    return float(value)
