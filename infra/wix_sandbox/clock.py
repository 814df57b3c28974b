"""Time in the sandbox: Wix's timestamps, and the clock its windows and token lifetimes run on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

# Seconds on a monotonic scale, as ``time.monotonic``: only differences between readings count.
Clock = Callable[[], float]


def iso_timestamp(epoch_seconds: float | None = None) -> str:
    """Timestamps as Wix writes them: ISO 8601, UTC, milliseconds, ``Z``."""
    moment = datetime.fromtimestamp(time.time() if epoch_seconds is None else epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_timestamp_after(previous: object) -> str:
    """Now, or a millisecond after ``previous`` when now is not later (two changes in one
    millisecond): a changed order's ``updatedDate`` always moves forward, so a search by it finds
    the change."""
    now = iso_timestamp()
    if not isinstance(previous, str):
        return now
    try:
        earlier = datetime.fromisoformat(previous)
    except ValueError:
        return now
    if datetime.fromisoformat(now) > earlier:
        return now
    return iso_timestamp(earlier.timestamp() + 0.001)


class ManualClock:
    """A clock that moves only when told to: a test steps past a rate window or a token's
    lifetime exactly, at Wix's real scale (60 s, 4 h), instead of sleeping through a shortened
    one and racing a loaded CPU."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        with self._lock:
            self._now += seconds
