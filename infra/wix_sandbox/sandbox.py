"""``WixSandbox``: Wix's routes and the sandbox's control API (``/_sandbox/...``) on one port.

A request to a Wix route meets, in this order: the endpoint's injected fault (if any), the access
token (401), the instance's rate limit (429), then the rules in ``orders``. Control routes have no
token, no limit and no faults, except the carrier label endpoint (see ``control_api``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from infra.service import LocalService, claiming_port
from infra.wix_sandbox import errors
from infra.wix_sandbox.carrier import CarrierService
from infra.wix_sandbox.clock import Clock, iso_timestamp
from infra.wix_sandbox.config import SandboxConfig
from infra.wix_sandbox.control_api import ControlApi
from infra.wix_sandbox.errors import WixApiError, application_error
from infra.wix_sandbox.faults import FAULTABLE_ENDPOINTS, NO_FAULT, FaultInjector, FaultKind
from infra.wix_sandbox.keys import load_or_generate_private_key, public_key_pem
from infra.wix_sandbox.orders import Orders
from infra.wix_sandbox.rate_limit import SlidingWindowRateLimiter
from infra.wix_sandbox.routing import Route, find_route
from infra.wix_sandbox.server import Request, Response, SandboxHTTPServer
from infra.wix_sandbox.sites import Sites
from infra.wix_sandbox.stats import UNKNOWN_INSTANCE, Stats
from infra.wix_sandbox.webhooks import WebhookDispatcher
from infra.wix_sandbox.wix_routes import WixRoutes

if TYPE_CHECKING:
    from infra.wix_sandbox.client import SandboxClient


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
        self.sites = Sites(
            app_id=config.app_id,
            app_secret=config.app_secret,
            token_lifetime_seconds=config.token_lifetime_seconds,
            installed_at_start=config.sites,
            clock=clock,
        )
        self.orders = Orders(self.sites, self.stats)
        self.faults = FaultInjector(config.fault_seed, config.faults, clock)
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
            token_lifetime_seconds=config.webhook_token_lifetime_seconds,
            pretty_json=config.webhook_pretty_json,
        )
        self.carrier = CarrierService(config.carrier_provider, config.fault_seed)
        control = ControlApi(
            config=config,
            public_key_pem=self.public_key_pem,
            stats=self.stats,
            sites=self.sites,
            orders=self.orders,
            faults=self.faults,
            rate_limiter=self.rate_limiter,
            dispatcher=self.dispatcher,
            carrier=self.carrier,
        )
        self._routes = WixRoutes(self.sites, self.orders).routes() + control.routes()
        self._stopping = threading.Event()
        self._http: SandboxHTTPServer | None = None
        self._serving: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> WixSandbox:
        with claiming_port("the Wix sandbox", self.config.port):
            self._http = SandboxHTTPServer(
                self.config.port, self, host=self.config.host, verbose=self.config.verbose
            )
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
        return f"http://{self.config.host}:{self.port}"

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
        route, parameters = find_route(self._routes, request)
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
            if decision.kind is FaultKind.STALE:
                parameters = {
                    **parameters,
                    "as_of": iso_timestamp(time.time() - decision.hold_seconds),
                }
            response = self._answer(route, request, parameters)
        if decision.kind is FaultKind.DROP:
            self._record(route, "dropped", instance_id)
            return None
        if decision.kind is FaultKind.LATE:
            self._stopping.wait(decision.hold_seconds)
        self._record(route, response.status, instance_id)
        return response

    def _calling_instance(self, request: Request, route: Route) -> str | None:
        """The site a call is for (its token's, or the token request's): faults are scoped to
        sites and calls counted per site by it."""
        if route.needs_token:
            return self.sites.instance_of_token(request.headers.get("authorization"))
        if route.endpoint == "token":
            with contextlib.suppress(WixApiError):
                body = request.json()
                if isinstance(body, Mapping) and isinstance(body.get("instance_id"), str):
                    return str(body["instance_id"])
        return None

    def _answer(self, route: Route, request: Request, parameters: Mapping[str, str]) -> Response:
        try:
            if route.needs_token:
                instance_id = self.sites.authenticate(request.headers.get("authorization"))
                if not self.rate_limiter.allow(instance_id):
                    self.stats.add("throttledByRateLimit")
                    raise _too_many_requests()
                parameters = {**parameters, "instance_id": instance_id}
            return route.handler(request, parameters)
        except WixApiError as error:
            return Response.error(error)

    def _record(self, route: Route, outcome: int | str, instance_id: str | None) -> None:
        if route.endpoint in FAULTABLE_ENDPOINTS:
            site = (instance_id or UNKNOWN_INSTANCE) if route.wix_api else None
            self.stats.record_call(route.endpoint, outcome, site)


def _too_many_requests() -> WixApiError:
    return application_error(
        429, errors.TOO_MANY_REQUESTS, "rate limit exceeded for this app instance"
    )
