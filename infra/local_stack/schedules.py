"""The template's Schedule events, locally: EventBridge's Scheduled Event, on a timer for
``make local`` or on demand (``LocalStack.run_schedule``) for tests and tools."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final, Self

from infra.local_stack.wiring import Schedule
from infra.service import LocalService

ACCOUNT: Final = "123456789012"
REGION: Final = "us-east-1"


def scheduled_event(schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    """What EventBridge sends a function on its schedule."""
    moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": moment,
        "region": REGION,
        "resources": [
            f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{schedule.function_id}-{schedule.event_id}"
        ],
        "detail": {},
    }


class ScheduleTimer(LocalService):
    """Invokes the function every ``every_seconds`` (the template's rate, unless told), the
    first time one interval after the start, as EventBridge does."""

    def __init__(
        self,
        schedule: Schedule,
        invoke: Callable[[dict[str, Any]], Any],
        log: Callable[[str], None],
        every_seconds: float | None = None,
    ) -> None:
        self.schedule = schedule
        self._invoke = invoke
        self._log = log
        self._every = every_seconds or schedule.interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"schedule-{schedule.function_id}", daemon=True
        )

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            try:
                answer = self._invoke(scheduled_event(self.schedule))
            except Exception as error:  # a failed sweep is logged; the next one comes anyway
                self._log(f"schedule {self.schedule.function_id}: {type(error).__name__}: {error}")
                continue
            self._log(f"schedule {self.schedule.function_id}: {answer}")
