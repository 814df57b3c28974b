"""Counters a test or benchmark reads back to see what the client really did to "Wix"."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class Stats:
    """Thread-safe counters; every request thread and delivery thread writes here."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._faults: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._totals: Counter[str] = Counter()

    def record_call(self, endpoint: str, outcome: int | str) -> None:
        """``outcome`` is the status code answered, or "dropped"/"timeout" when none was."""
        with self._lock:
            self._calls[endpoint][str(outcome)] += 1
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
                },
                "faultsInjected": {
                    endpoint: dict(kinds) for endpoint, kinds in self._faults.items()
                },
            }

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._totals.clear()
