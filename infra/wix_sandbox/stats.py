"""Counters a test or benchmark reads back to see what the client really did to "Wix"."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any, Final

UNKNOWN_INSTANCE: Final = "unknown"  # the site of a call without a token the sandbox knows


class Stats:
    """Thread-safe counters; every request thread and delivery thread writes here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._calls_by_instance: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._faults: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._totals: Counter[str] = Counter()

    def record_call(
        self, endpoint: str, outcome: int | str, instance_id: str | None = None
    ) -> None:
        """``outcome`` is the status code answered, or "dropped"/"timeout" when none was.

        ``instance_id`` is the site a call to Wix's API was for (``UNKNOWN_INSTANCE`` when no
        site can be told), so a test of several sites sees which one a client really called;
        None for calls outside Wix's API (the carrier).
        """
        with self._lock:
            self._calls[endpoint][str(outcome)] += 1
            if instance_id is not None:
                self._calls_by_instance[instance_id][endpoint] += 1
            if outcome == 429:
                self._totals["throttled"] += 1

    def record_fault(self, endpoint: str, kind: str) -> None:
        with self._lock:
            self._faults[endpoint][kind] += 1

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._totals[name] += amount

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": {endpoint: dict(codes) for endpoint, codes in self._calls.items()},
                "callsByInstance": {
                    instance_id: dict(endpoints)
                    for instance_id, endpoints in self._calls_by_instance.items()
                },
                "throttled": self._totals["throttled"],
                "throttledByRateLimit": self._totals["throttledByRateLimit"],
                "rejectedOverFulfillments": self._totals["rejectedOverFulfillments"],
                "fulfillmentsCreated": self._totals["fulfillmentsCreated"],
                "carrierLabelsIssued": self._totals["carrierLabelsIssued"],
                "webhooks": {
                    "deliveries": self._totals["webhookDeliveries"],
                    "attempts": self._totals["webhookAttempts"],
                    "delivered": self._totals["webhookDelivered"],
                    "failed": self._totals["webhookFailed"],
                    "lost": self._totals["webhookLost"],
                },
                "faultsInjected": {
                    endpoint: dict(kinds) for endpoint, kinds in self._faults.items()
                },
            }

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._calls_by_instance.clear()
            self._faults.clear()
            self._totals.clear()
