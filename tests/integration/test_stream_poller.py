"""The local event source mapping's semantics, on DynamoDB Local's real stream records."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.dynamodb_stream import StreamReader
from infra.local_stack.functions import FunctionError
from infra.local_stack.streams import BatchReport, DeadLetterFile, StreamPoller
from infra.local_stack.wiring import StreamMapping

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

Invoke = Callable[[dict[str, Any]], Any]


def mapping(**settings: Any) -> StreamMapping:
    defaults: dict[str, Any] = {
        "function_id": "Worker",
        "table_id": "OrdersTable",
        "batch_size": 100,
        "batching_window_seconds": 0.0,
        "maximum_retry_attempts": 2,
        "maximum_record_age_seconds": -1,
        "bisect_on_error": False,
        "report_batch_item_failures": True,
        "filter_patterns": (),
        "on_failure_destination": "Queue",
    }
    return StreamMapping(**(defaults | settings))


def keys(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]


class Run:
    """Writes items, runs a poller over them until it is idle, and keeps what it saw."""

    def __init__(
        self,
        dynamodb_local: DynamoDBLocal,
        dynamodb: DynamoDBClient,
        table: str,
        dead_letters: DeadLetterFile,
    ) -> None:
        self._dynamodb_local = dynamodb_local
        self._dynamodb = dynamodb
        self._table = table
        self.dead_letters = dead_letters
        self.batches: list[list[str]] = []
        self.reports: list[BatchReport] = []

    def __call__(self, settings: StreamMapping, items: list[str], invoke: Invoke) -> None:
        for key in items:
            self._dynamodb.put_item(
                TableName=self._table, Item={"pk": {"S": key}, "status": {"S": "PENDING"}}
            )

        def recording(event: dict[str, Any]) -> Any:
            self.batches.append(keys(event))
            return invoke(event)

        reader = StreamReader(self._dynamodb, self._dynamodb_local.streams_client(), self._table)
        poller = StreamPoller(settings, reader, recording, self.dead_letters, self.reports.append)
        with poller:
            time.sleep(0.3)
            assert poller.idle.wait(20)


@pytest.fixture
def run(
    dynamodb_local: DynamoDBLocal, dynamodb: DynamoDBClient, orders_table: str, tmp_path: Path
) -> Run:
    return Run(dynamodb_local, dynamodb, orders_table, DeadLetterFile(tmp_path / "dlq.jsonl"))


def succeed(event: dict[str, Any]) -> dict[str, Any]:
    return {"batchItemFailures": []}


def test_batches_hold_at_most_batch_size_records(run: Run) -> None:
    run(mapping(batch_size=3), [f"k{i}" for i in range(7)], succeed)

    assert run.batches == [["k0", "k1", "k2"], ["k3", "k4", "k5"], ["k6"]]
    assert run.dead_letters.messages() == []


def test_filtered_out_records_are_never_delivered(run: Run) -> None:
    only_b = ({"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "b"}]}}}},)

    run(mapping(filter_patterns=only_b), ["a1", "b1", "a2", "b2"], succeed)

    assert run.batches == [["b1", "b2"]]


def test_a_partial_failure_is_retried_from_the_first_failed_record(run: Run) -> None:
    failures = iter([["k2"], []])

    def fail_k2_once(event: dict[str, Any]) -> dict[str, Any]:
        failed = next(failures)
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
                for record in event["Records"]
                if record["dynamodb"]["Keys"]["pk"]["S"] in failed
            ]
        }

    run(mapping(), ["k1", "k2", "k3"], fail_k2_once)

    assert run.batches == [["k1", "k2", "k3"], ["k2", "k3"]]


def test_a_function_error_is_bisected_down_to_the_poison_record_then_dead_lettered(
    run: Run,
) -> None:
    def poisoned(event: dict[str, Any]) -> dict[str, Any]:
        if "k3" in keys(event):
            raise FunctionError("ValueError: poison")
        return {"batchItemFailures": []}

    run(mapping(bisect_on_error=True, maximum_retry_attempts=3), ["k1", "k2", "k3", "k4"], poisoned)

    delivered = {key for batch in run.batches for key in batch if "k3" not in batch}
    assert delivered == {"k1", "k2", "k4"}
    [message] = run.dead_letters.messages()
    info = message["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"


def test_retries_are_finite_and_end_in_the_on_failure_destination(run: Run) -> None:
    def always_fail(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [
                {"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}
            ]
        }

    run(mapping(maximum_retry_attempts=2), ["k1", "k2"], always_fail)

    assert run.batches == [["k1", "k2"]] * 3
    [message] = run.dead_letters.messages()
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "/stream/" in message["DDBStreamBatchInfo"]["streamArn"]
    assert [report.dead_lettered for report in run.reports][-1] == 2


def test_an_answer_naming_unknown_records_fails_the_whole_batch(run: Run) -> None:
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "999"}]}, {"batchItemFailures": []}])

    run(mapping(), ["k1", "k2"], lambda event: next(answers))

    assert run.batches == [["k1", "k2"], ["k1", "k2"]]
