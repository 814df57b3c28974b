"""Injected faults per endpoint, reproducible: the same seed and calls give the same decisions.

Each endpoint draws from its own ``random.Random`` (seeded with the seed and the endpoint's name),
exactly one number per request, so what happens to one endpoint's calls does not depend on how
the calls to other endpoints interleave with them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Final

from infra.wix_sandbox.clock import Clock
from infra.wix_sandbox.errors import validation_error

FAULTABLE_ENDPOINTS: Final = frozenset(
    {
        "token",
        "searchOrders",
        "getOrder",
        "create",
        "list",
        "listByIds",
        "bulkCreate",
        "update",
        "delete",
        "carrier",
    }
)


class FaultKind(StrEnum):
    NONE = "none"
    TIMEOUT = "timeout"  # hold the request unanswered, then close the connection
    ERROR = "error"  # answer 5xx without doing anything
    THROTTLE = "throttle"  # answer 429 without doing anything
    DROP = "drop"  # do the work (a create commits), then close without an answer
    LATE = "late"  # do the work, then hold the answer: a caller's crash in between loses it
    STALE = "stale"  # a listing as it was staleSeconds ago: fulfillments made since left out


# The control API's JSON names of FaultSpec's fields.
_SETTING_FIELDS: Final = {
    "errorRate": "error_rate",
    "errorStatus": "error_status",
    "throttleRate": "throttle_rate",
    "timeoutRate": "timeout_rate",
    "timeoutSeconds": "timeout_seconds",
    "dropRate": "drop_rate",
    "lateRate": "late_rate",
    "lateSeconds": "late_seconds",
    "staleRate": "stale_rate",
    "staleSeconds": "stale_seconds",
    "latencyMs": "latency_ms",
    "forSeconds": "for_seconds",
    "instanceIds": "instance_ids",
}
_SETTING_NAMES: Final = {field_name: name for name, field_name in _SETTING_FIELDS.items()}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Shares (0..1) of requests that meet each fault; the shares must add up to at most 1."""

    error_rate: float = 0.0
    error_status: int = 500
    throttle_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    drop_rate: float = 0.0
    late_rate: float = 0.0
    late_seconds: float = 5.0
    stale_rate: float = 0.0
    """Listings only: a read that lags the writes before it."""
    stale_seconds: float = 5.0
    latency_ms: float = 0.0
    for_seconds: float | None = None
    """The faults end this long after they were set (never when None): an outage, then recovery."""
    instance_ids: frozenset[str] = frozenset()
    """Only these sites' calls meet the faults (all sites when empty): one site down, others up."""

    def __post_init__(self) -> None:
        rates = (
            self.error_rate,
            self.throttle_rate,
            self.timeout_rate,
            self.drop_rate,
            self.late_rate,
            self.stale_rate,
        )
        if any(not 0.0 <= rate <= 1.0 for rate in rates) or sum(rates) > 1.0 + 1e-9:
            raise ValueError("fault rates must be within 0..1 and add up to at most 1")
        if not 500 <= self.error_status <= 599:
            raise ValueError("errorStatus must be a 5xx status")
        durations = (
            self.timeout_seconds,
            self.late_seconds,
            self.stale_seconds,
            self.latency_ms,
            self.for_seconds,
        )
        if any(duration is not None and duration < 0 for duration in durations):
            raise ValueError(
                "timeoutSeconds, lateSeconds, staleSeconds, latencyMs and forSeconds must not be "
                "negative"
            )

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> FaultSpec:
        unknown = set(value) - set(_SETTING_FIELDS)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        settings: dict[str, Any] = {}
        for name, setting in value.items():
            if name == "forSeconds" and setting is None:
                continue
            if name == "instanceIds":
                if not isinstance(setting, list) or not all(isinstance(i, str) for i in setting):
                    raise ValueError("instanceIds must be a list of instance ids")
                settings["instance_ids"] = frozenset(setting)
            elif not isinstance(setting, int | float) or isinstance(setting, bool):
                raise ValueError(f"{name} must be a number")
            else:
                settings[_SETTING_FIELDS[name]] = setting
        if "error_status" in settings:
            settings["error_status"] = int(settings["error_status"])
        return cls(**settings)

    def to_json(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            _SETTING_NAMES[spec.name]: getattr(self, spec.name) for spec in fields(self)
        }
        described["instanceIds"] = sorted(self.instance_ids)
        return described


@dataclass(frozen=True, slots=True)
class FaultDecision:
    kind: FaultKind
    latency_seconds: float = 0.0
    error_status: int = 500
    hold_seconds: float = 0.0


NO_FAULT: Final = FaultDecision(FaultKind.NONE)


def parse_fault_plan(value: object) -> dict[str, FaultSpec]:
    """``{"create": {"errorRate": 0.1, ...}, ...}`` as the CLI and the control API take it."""
    if not isinstance(value, Mapping):
        raise validation_error("endpoints", "must be an object of endpoint name to fault settings")
    plan: dict[str, FaultSpec] = {}
    for endpoint, settings in value.items():
        if endpoint not in FAULTABLE_ENDPOINTS:
            known = ", ".join(sorted(FAULTABLE_ENDPOINTS))
            raise validation_error(f"endpoints.{endpoint}", f"unknown endpoint (one of {known})")
        if not isinstance(settings, Mapping):
            raise validation_error(f"endpoints.{endpoint}", "must be an object")
        try:
            plan[endpoint] = FaultSpec.from_json(settings)
        except (TypeError, ValueError) as error:
            raise validation_error(f"endpoints.{endpoint}", str(error)) from error
    return plan


class FaultInjector:
    """Decides, per request, which fault (if any) an endpoint's call meets; ``clock`` measures
    the ``forSeconds`` windows."""

    def __init__(
        self, seed: int, plan: Mapping[str, FaultSpec], clock: Clock = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._seed = seed
        self._plan: dict[str, FaultSpec] = {}
        self._generators: dict[str, random.Random] = {}
        self._set_at = clock()
        self.configure(seed, plan)

    def configure(self, seed: int, plan: Mapping[str, FaultSpec]) -> None:
        """Replace the plan and restart every endpoint's sequence from the seed."""
        unknown = set(plan) - FAULTABLE_ENDPOINTS
        if unknown:
            raise ValueError(f"no such endpoints for faults: {', '.join(sorted(unknown))}")
        with self._lock:
            self._seed = seed
            self._plan = dict(plan)
            self._set_at = self._clock()
            self._generators = {
                endpoint: random.Random(f"{seed}:{endpoint}")  # noqa: S311 (not cryptography)
                for endpoint in self._plan
            }

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self._seed,
                "endpoints": {name: spec.to_json() for name, spec in self._plan.items()},
            }

    def decide(self, endpoint: str, instance_id: str | None = None) -> FaultDecision:
        """The fault for one call; ``instance_id`` is the calling site, when the call names one."""
        with self._lock:
            spec = self._plan.get(endpoint)
            if spec is None or (spec.instance_ids and instance_id not in spec.instance_ids):
                return NO_FAULT
            if spec.for_seconds is not None and self._clock() - self._set_at >= spec.for_seconds:
                return NO_FAULT
            draw = self._generators[endpoint].random()
        latency = spec.latency_ms / 1000.0
        threshold = 0.0
        for kind, rate in (
            (FaultKind.TIMEOUT, spec.timeout_rate),
            (FaultKind.ERROR, spec.error_rate),
            (FaultKind.THROTTLE, spec.throttle_rate),
            (FaultKind.DROP, spec.drop_rate),
            (FaultKind.LATE, spec.late_rate),
            (FaultKind.STALE, spec.stale_rate),
        ):
            threshold += rate
            if draw < threshold:
                hold = {
                    FaultKind.LATE: spec.late_seconds,
                    FaultKind.STALE: spec.stale_seconds,
                }.get(kind, spec.timeout_seconds)
                return FaultDecision(kind, latency, spec.error_status, hold)
        return FaultDecision(FaultKind.NONE, latency)
