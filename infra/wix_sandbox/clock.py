"""Timestamps as Wix writes them: ISO 8601, UTC, milliseconds, ``Z``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_timestamp(epoch_seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if epoch_seconds is None else epoch_seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
