"""A DynamoDB stream event source mapping, honouring the template's settings as Lambda does.

Records pass the mapping's filters or are dropped; batches fill up to ``BatchSize`` or until the
batching window closes. A function error fails the whole batch (bisected when
``BisectBatchOnFunctionError``); with ``ReportBatchItemFailures`` the batch is retried from its
first failed record. After ``MaximumRetryAttempts`` retries, or once records are older than
``MaximumRecordAgeInSeconds``, the batch's description goes to the on-failure destination, as
Lambda sends it, and the mapping moves on.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from infra.local_stack.dynamodb_stream import StreamReader, lambda_stream_event
from infra.local_stack.event_filter import matches_any
from infra.local_stack.functions import FunctionError
from infra.local_stack.wiring import StreamMapping
from infra.service import LocalService

POLL_INTERVAL_SECONDS: Final = 0.1
RETRY_DELAY_SECONDS: Final = 0.2


@dataclass(frozen=True, slots=True)
class BatchReport:
    """What one delivery of a batch came to, for the stack's log."""

    function_id: str
    records: int
    failed: int
    dead_lettered: int


class DeadLetterFile:
    """The local stand-in for an on-failure SQS queue: one JSON message a line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as queue:
                queue.write(json.dumps(message) + "\n")

    def messages(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]


Records = list[dict[str, Any]]


class StreamPoller(LocalService):
    def __init__(
        self,
        mapping: StreamMapping,
        reader: StreamReader,
        invoke: Callable[[dict[str, Any]], Any],
        dead_letters: DeadLetterFile | None,
        on_batch: Callable[[BatchReport], None],
    ) -> None:
        self.mapping = mapping
        self._reader = reader
        self._invoke = invoke
        self._dead_letters = dead_letters
        self._on_batch = on_batch
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._buffer: Records = []
        self._buffer_opened_at = 0.0
        self.idle = threading.Event()
        """Set while no record is buffered or being delivered."""

    def start(self) -> StreamPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                fresh = [record for record in self._reader.read() if self._passes_filters(record)]
            except (BotoCoreError, ClientError):
                # As Lambda's pollers do when the stream cannot be read: wait, then read again.
                self._stopping.wait(POLL_INTERVAL_SECONDS)
                continue
            if fresh and not self._buffer:
                self._buffer_opened_at = time.monotonic()
            self._buffer.extend(fresh)
            if self._buffer:
                self.idle.clear()
            if self._batch_ready():
                batch = self._buffer[: self.mapping.batch_size]
                del self._buffer[: self.mapping.batch_size]
                self._deliver(batch)
                if self._buffer:
                    self._buffer_opened_at = time.monotonic()
                continue
            if not self._buffer:
                self.idle.set()
            self._stopping.wait(POLL_INTERVAL_SECONDS)

    def _passes_filters(self, record: dict[str, Any]) -> bool:
        patterns = self.mapping.filter_patterns
        return not patterns or matches_any(patterns, record)

    def _batch_ready(self) -> bool:
        if not self._buffer:
            return False
        window_closed = (
            time.monotonic() - self._buffer_opened_at >= self.mapping.batching_window_seconds
        )
        return len(self._buffer) >= self.mapping.batch_size or window_closed

    def _deliver(self, batch: Records, retries_done: int = 0) -> None:
        records = batch
        while records and not self._stopping.is_set():
            records, expired = self._split_expired(records)
            if expired:
                self._dead_letter(expired, "RecordAgeExceeded", retries_done + 1)
            if not records:
                return
            failed, function_error = self._invoke_once(records)
            self._on_batch(BatchReport(self.mapping.function_id, len(records), len(failed), 0))
            if not failed:
                return
            if function_error and self.mapping.bisect_on_error and len(records) > 1:
                # As Lambda's docs put it, splitting a batch does not count towards the retries.
                middle = len(records) // 2
                self._deliver(records[:middle], retries_done)
                self._deliver(records[middle:], retries_done)
                return
            retries_done += 1
            if 0 <= self.mapping.maximum_retry_attempts < retries_done:
                self._dead_letter(records, "RetryAttemptsExhausted", retries_done)
                return
            records = records[failed[0] :]
            self._stopping.wait(RETRY_DELAY_SECONDS)

    def _invoke_once(self, records: Records) -> tuple[list[int], bool]:
        """The positions of failed records, and whether the function failed as a whole."""
        try:
            answer = self._invoke(lambda_stream_event(records))
        except FunctionError:
            return list(range(len(records))), True
        if not self.mapping.report_batch_item_failures:
            return [], False
        positions = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(records)}
        try:
            failures = [item["itemIdentifier"] for item in answer.get("batchItemFailures") or []]
        except (AttributeError, KeyError, TypeError):
            return list(range(len(records))), True
        if any(identifier not in positions for identifier in failures):
            # Lambda treats an answer naming records it did not send as a failed batch.
            return list(range(len(records))), True
        return sorted(positions[identifier] for identifier in failures), False

    def _split_expired(self, records: Records) -> tuple[Records, Records]:
        maximum_age = self.mapping.maximum_record_age_seconds
        if maximum_age < 0:
            return records, []
        oldest_kept = time.time() - maximum_age
        expired = [r for r in records if r["dynamodb"]["ApproximateCreationDateTime"] < oldest_kept]
        kept = [r for r in records if r["dynamodb"]["ApproximateCreationDateTime"] >= oldest_kept]
        return kept, expired

    def _dead_letter(self, records: Sequence[dict[str, Any]], condition: str, invokes: int) -> None:
        self._on_batch(
            BatchReport(self.mapping.function_id, len(records), len(records), len(records))
        )
        if self._dead_letters is None:
            return
        self._dead_letters.send(
            _on_failure_message(self.mapping.function_id, records, condition, invokes, self._reader)
        )


def _on_failure_message(
    function_id: str,
    records: Sequence[dict[str, Any]],
    condition: str,
    invokes: int,
    reader: StreamReader,
) -> dict[str, Any]:
    """What Lambda sends an on-failure destination for a stream batch: where it is, not what."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{function_id}",
            "condition": condition,
            "approximateInvokeCount": invokes,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "DDBStreamBatchInfo": {
            "shardId": reader.shard_of(first["SequenceNumber"]),
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
            "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
            "batchSize": len(records),
            "streamArn": reader.stream_arn,
        },
    }


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
