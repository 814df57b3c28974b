"""Wix REST over urllib3: OAuth tokens per site instance and the Order Fulfillments API.

One connection pool and one token cache per execution environment (module level), so warm
invocations reuse both. Reads are retried with exponential backoff and full jitter on 429, 5xx,
timeouts and dropped connections, honouring ``Retry-After`` and never past the Lambda's deadline.
A create is retried only when Wix certainly did not act on it (429, connection refused); any
other failure raises ``CreateOutcomeUnknown`` so that the caller lists before trying again.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
)

from wix_fulfillment.core.fulfillment_plan import ExistingFulfillment, FulfilledLine
from wix_fulfillment.core.fulfillment_run import (
    MAX_ORDERS_PER_CALL,
    CreateOutcomeUnknown,
    CreateResult,
    FulfillmentRequest,
    WixUnavailable,
)

TOKEN_REFRESH_MARGIN_SECONDS: Final = 300
MAX_ATTEMPTS: Final = 5
BACKOFF_BASE_SECONDS: Final = 0.2
BACKOFF_CAP_SECONDS: Final = 5.0
DEADLINE_MARGIN_SECONDS: Final = 2.0
CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 10.0
MIN_SECONDS_FOR_A_REQUEST: Final = 1.0
_RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
_ORDER_ID_IN_PATH: Final = re.compile(r"(?<=/orders/)(?!bulk/)[^/]+")

_pool = urllib3.PoolManager(maxsize=10, retries=False)


CallObserver = Callable[[str, str, float], None]
"""Told of every request: (what was called, its HTTP status or error name, seconds it took)."""


class TokenUnavailable(WixUnavailable):
    """No access token for the site (Wix or the app's settings said no): never a verdict on an
    order, so never read as one."""


class WixRequestFailed(WixUnavailable):
    """Wix answered with an error status; ``code`` is its application error code, if any."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _CachedToken:
    value: str
    valid_until: float


@dataclass
class TokenCache:
    """Access tokens per site instance, kept until shortly before they expire."""

    tokens: dict[str, _CachedToken] = field(default_factory=dict)

    def get(self, instance_id: str, now: float) -> str | None:
        cached = self.tokens.get(instance_id)
        return cached.value if cached and cached.valid_until > now else None

    def forget(self, instance_id: str) -> None:
        self.tokens.pop(instance_id, None)

    def put(self, instance_id: str, token: str, expires_in: float, now: float) -> None:
        self.tokens[instance_id] = _CachedToken(
            token, now + max(expires_in - TOKEN_REFRESH_MARGIN_SECONDS, 0)
        )


_token_cache = TokenCache()


@dataclass(frozen=True)
class WixCredentials:
    app_id: str
    app_secret: Callable[[], str]
    """Called when a token is needed, so a rotated secret is picked up through its own cache."""


class WixApiClient:
    """Implements the core's ``WixFulfillments`` port for one invocation (its deadline)."""

    def __init__(
        self,
        base_url: str,
        credentials: WixCredentials,
        seconds_left: Callable[[], float],
        *,
        pool: urllib3.PoolManager = _pool,
        token_cache: TokenCache = _token_cache,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        observe: CallObserver | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._credentials = credentials
        self._seconds_left = seconds_left
        self._pool = pool
        self._tokens = token_cache
        self._sleep = sleep
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._observe = observe

    # --- the port ---

    def existing_fulfillments(
        self, instance_id: str, order_ids: Sequence[str]
    ) -> dict[str, list[ExistingFulfillment]]:
        found: dict[str, list[ExistingFulfillment]] = {order_id: [] for order_id in order_ids}
        for start in range(0, len(order_ids), MAX_ORDERS_PER_CALL):
            chunk = list(order_ids[start : start + MAX_ORDERS_PER_CALL])
            answer = self._call(
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
            answer = self._call(
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

    # --- beyond the port: the operator's listing and single creates ---

    def list_fulfillments(self, instance_id: str, order_id: str) -> dict[str, Any]:
        """Wix's List Fulfillments For Single Order, as Wix returns it."""
        return self._call(
            instance_id, "GET", f"/ecom/v1/fulfillments/orders/{quote(order_id, safe='')}", None
        )

    def _create_one(self, instance_id: str, request: FulfillmentRequest) -> CreateResult:
        """Create Fulfillment for one order: Wix's 4xx here is its verdict on this order."""
        try:
            answer = self._call(
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

    # --- transport ---

    def _observed(self, path: str, outcome: str, started: float) -> None:
        if self._observe is not None:
            self._observe(_endpoint(path), outcome, time.monotonic() - started)

    def _call(
        self,
        instance_id: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        creates: bool = False,
    ) -> dict[str, Any]:
        for fresh_token in (False, True):
            if fresh_token:
                self._tokens.forget(instance_id)
            headers = {
                "Authorization": self._access_token(instance_id),
                "Content-Type": "application/json",
            }
            try:
                return self._send(method, path, body, headers, creates=creates)
            except WixRequestFailed as error:
                # A revoked or expired token: Wix did nothing; ask for a new one, once.
                if error.status != 401 or fresh_token:
                    raise
        raise AssertionError("unreachable: the second try returns or raises")

    def _access_token(self, instance_id: str) -> str:
        cached = self._tokens.get(instance_id, time.monotonic())
        if cached:
            return cached
        try:
            answer = self._send(
                "POST",
                "/oauth2/token",
                {
                    "grant_type": "client_credentials",
                    "client_id": self._credentials.app_id,
                    "client_secret": self._credentials.app_secret(),
                    "instance_id": instance_id,
                },
                {"Content-Type": "application/json"},
                creates=False,
            )
            token = answer["access_token"]
            expires_in = float(answer.get("expires_in", 0))
        except WixUnavailable as error:
            raise TokenUnavailable(f"no access token: {error}") from error
        except (KeyError, TypeError, ValueError) as error:
            raise TokenUnavailable(f"unexpected token answer: {error!r}") from error
        if not isinstance(token, str) or not token:
            raise TokenUnavailable("the token answer had no access_token")
        self._tokens.put(instance_id, token, expires_in, time.monotonic())
        return token

    def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        *,
        creates: bool,
    ) -> dict[str, Any]:
        payload = None if body is None else json.dumps(body).encode()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            left = self._seconds_left() - DEADLINE_MARGIN_SECONDS
            if left < MIN_SECONDS_FOR_A_REQUEST:
                # Nothing is sent, so even a create is certainly not done.
                raise WixUnavailable(f"{method} {path}: no time left for another request")
            timeout = urllib3.Timeout(
                connect=min(self._connect_timeout, left), read=min(self._read_timeout, left)
            )
            started = time.monotonic()
            try:
                response = self._pool.request(
                    method,
                    self._base_url + path,
                    body=payload,
                    headers=dict(headers),
                    timeout=timeout,
                )
            except (NewConnectionError, ConnectTimeoutError) as error:
                self._observed(path, type(error).__name__, started)
                # Nothing reached Wix: safe to send again, even a create.
                failure: WixUnavailable = WixUnavailable(f"{method} {path}: cannot connect")
                retry_after = None
                cause: Exception = error
            except HTTPError as error:
                self._observed(path, type(error).__name__, started)
                if creates:
                    raise CreateOutcomeUnknown(
                        f"{method} {path}: {type(error).__name__}"
                    ) from error
                failure = WixUnavailable(f"{method} {path}: {type(error).__name__}")
                retry_after = None
                cause = error
            else:
                self._observed(path, str(response.status), started)
                if response.status < 300:
                    return _json_answer(response.data, creates)
                failure = _failure(response)
                if response.status not in _RETRYABLE_STATUSES:
                    raise failure
                if creates and response.status != 429:
                    raise CreateOutcomeUnknown(str(failure)) from failure
                retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                cause = failure
            delay = retry_after if retry_after is not None else _backoff(attempt)
            if attempt == MAX_ATTEMPTS or delay > self._seconds_left() - DEADLINE_MARGIN_SECONDS:
                raise failure from cause
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _endpoint(path: str) -> str:
    """A request's path without its order id, for metrics (``.../orders/{orderId}``)."""
    return _ORDER_ID_IN_PATH.sub("{orderId}", path)


def _backoff(attempt: int) -> float:
    """Full jitter: a random delay up to an exponentially growing cap."""
    return random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))  # noqa: S311


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _failure(response: urllib3.BaseHTTPResponse) -> WixRequestFailed:
    """Wix's error body: ``message`` and an application or validation error in ``details``."""
    try:
        error = _json_answer(response.data)
    except WixUnavailable:
        error = {}
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    application = details.get("applicationError") if isinstance(details, dict) else None
    code = ""
    if isinstance(application, dict):
        code = str(application.get("code", ""))
    if not code and isinstance(details, dict) and "validationError" in details:
        code = "VALIDATION_ERROR"
    return WixRequestFailed(
        response.status, code or f"HTTP_{response.status}", str(error.get("message", ""))[:500]
    )


def _json_answer(data: bytes, creates: bool = False) -> dict[str, Any]:
    """Wix's JSON answer. A create's unreadable success is an unknown outcome, not a failure."""
    try:
        value = json.loads(data) if data else {}
    except ValueError as error:
        if creates:
            raise CreateOutcomeUnknown("Wix's answer to a create is not JSON") from error
        raise WixUnavailable("Wix answered with something that is not JSON") from error
    if not isinstance(value, dict):
        if creates:
            raise CreateOutcomeUnknown("Wix's answer to a create is not a JSON object")
        raise WixUnavailable("Wix answered with JSON that is not an object")
    return value


def _existing(fulfillment: Mapping[str, Any]) -> ExistingFulfillment:
    return ExistingFulfillment(
        id=str(fulfillment.get("id", "")),
        lines=tuple(
            FulfilledLine(str(line["id"]), int(line.get("quantity", 0)))
            for line in fulfillment.get("lineItems", [])
        ),
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
