"""Wix's documented limit: 200 requests per minute per app instance, answered with 429 beyond it.

How Wix counts the minute is not documented; the window below is the sandbox's choice
(``unconfirmed``).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from infra.wix_sandbox.clock import Clock


class SlidingWindowRateLimiter:
    """At most ``limit`` accepted requests per key in any window of ``window_seconds``.

    A sliding window (not fixed minutes), so a burst at a minute's boundary cannot pass twice the
    limit. Refused requests are not counted: a client that backs off recovers once the oldest
    accepted requests leave the window.
    """

    def __init__(self, limit: int, window_seconds: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._accepted: defaultdict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            accepted = self._accepted[key]
            while accepted and accepted[0] <= now - self.window_seconds:
                accepted.popleft()
            if len(accepted) >= self.limit:
                return False
            accepted.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._accepted.clear()
