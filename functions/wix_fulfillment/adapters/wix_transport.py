"""HTTP to Wix over urllib3: retries with exponential backoff and full jitter on 429, 5xx,
timeouts and dropped connections, honouring ``Retry-After`` and never past the Lambda's deadline.
A create is retried only when Wix certainly did not act on it (429, connection refused); any
other failure raises ``CreateOutcomeUnknown`` so that the caller lists before trying again."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from wix_fulfillment.core.model import CreateOutcomeUnknown, WixUnavailable

MAX_ATTEMPTS: Final = 5
BACKOFF_BASE_SECONDS: Final = 0.2
BACKOFF_CAP_SECONDS: Final = 5.0
DEADLINE_MARGIN_SECONDS: Final = 2.0
CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 10.0
MIN_SECONDS_FOR_A_REQUEST: Final = 1.0
_RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
_ORDER_ID_IN_PATH: Final = re.compile(r"(?<=/orders/)(?!bulk/)[^/]+")

CallObserver = Callable[[str, str, float], None]
"""Told of every request: (what was called, its HTTP status or error name, seconds it took)."""


class WixRequestFailed(WixUnavailable):
    """Wix answered with an error status; ``code`` is its application error code, if any."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def connection_pool() -> urllib3.PoolManager:
    """One per execution environment, so warm invocations reuse their connections."""
    return urllib3.PoolManager(maxsize=10, retries=False)


class WixTransport:
    """Requests to one Wix base URL within one invocation's deadline."""

    def __init__(
        self,
        base_url: str,
        seconds_left: Callable[[], float],
        *,
        pool: urllib3.PoolManager,
        sleep: Callable[[float], None] = time.sleep,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        observe: CallObserver | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._seconds_left = seconds_left
        self._pool = pool
        self._sleep = sleep
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._observe = observe

    def _observed(self, path: str, outcome: str, started: float) -> None:
        if self._observe is not None:
            self._observe(_endpoint(path), outcome, time.monotonic() - started)

    def send(
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
                    return json_answer(response.data, creates)
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
        error = json_answer(response.data)
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


def json_answer(data: bytes, creates: bool = False) -> dict[str, Any]:
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
