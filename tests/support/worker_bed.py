"""The fulfillment worker's test bed: DynamoDB Local, the Wix sandbox over HTTP, real stream
records.

Orders go in as the webhook stores them; the worker is the deployed handler module, cold-started
with its function's environment and fed Lambda-shaped batches read from DynamoDB Local's stream,
retried the way the event source mapping retries a batch with ``ReportBatchItemFailures``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from infra.local_stack.dynamodb_stream import StreamReader, lambda_stream_event
from infra.samples.dev_data import approved_order
from infra.wix_sandbox import WixSandbox
from tests.support.lambda_functions import Handler
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import IntakeStore
from wix_fulfillment.adapters.order_item import order_key
from wix_fulfillment.core.model import ApprovedOrder

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass
class LambdaContext:
    """Lambda's context as the worker and Powertools read it: the time left, who it is."""

    seconds: float = 300.0
    started: float = field(default_factory=time.monotonic)
    function_name: str = "FulfillmentFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:Fulfillment"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return int((self.seconds - (time.monotonic() - self.started)) * 1000)


def retried_records(records: list[dict[str, Any]], failed: set[str]) -> list[dict[str, Any]]:
    """What the stream re-delivers after a partial failure: from the first failed record on."""
    first = min(int(number) for number in failed)
    return [record for record in records if int(record["dynamodb"]["SequenceNumber"]) >= first]


@dataclass
class WorkerBed:
    dynamodb: DynamoDBClient
    table: str
    stream: StreamReader
    wix: WixSandbox
    load_worker: Callable[..., Handler]
    delivered: Callable[[dict[str, Any]], bool]
    """The stream mapping's filter (template.yaml)."""

    def place_orders(self, instance_id: str, **options: Any) -> list[ApprovedOrder]:
        """Orders approved at the sandbox (no webhook) and stored as the webhook stores them."""
        wix_orders = self.wix.client().create_orders(instance_id, deliver_webhook=False, **options)
        orders = [
            approved_order(instance_id, wix_order, str(uuid.uuid4()))
            for wix_order in wix_orders["orders"]
        ]
        table = IntakeStore(Boto3Transport(self.dynamodb), self.table, timedelta(days=1))
        for order in orders:
            assert table.insert_if_new(order)
        return orders

    def run_stream(self, worker: Handler, **options: Any) -> list[dict[str, Any]]:
        """Deliver the stream's records written since the last read (see ``deliver``)."""
        return self.deliver(worker, self.stream_batch(), **options)

    def stream_batch(self) -> list[dict[str, Any]]:
        """The records written since the last read that the template's stream filter lets
        through, as the event source mapping delivers them (never a site item)."""
        return [record for record in self.stream.read() if self.delivered(record)]

    def deliver(
        self,
        worker: Handler,
        records: list[dict[str, Any]],
        *,
        max_invocations: int = 1,
        context: Callable[[], LambdaContext] = LambdaContext,
    ) -> list[dict[str, Any]]:
        """Invoke the worker with the records as one batch; after a partial failure, again from
        the first failed record, as the event source mapping does. Each invocation's answer."""
        answers: list[dict[str, Any]] = []
        while records and len(answers) < max_invocations:
            answer = worker(lambda_stream_event(records), context())
            answers.append(answer)
            failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
            if not failed:
                break
            records = retried_records(records, failed)
        return answers

    def item(self, order: ApprovedOrder) -> dict[str, Any]:
        return self.dynamodb.get_item(
            TableName=self.table,
            Key={"pk": {"S": order_key(order.instance_id, order.order_id)}},
            ConsistentRead=True,
        )["Item"]

    def status(self, order: ApprovedOrder) -> str:
        status: str = self.item(order)["status"]["S"]
        return status

    def fulfilled_units(self, order: ApprovedOrder) -> dict[str, int]:
        """Per line item, the quantity in the order's fulfillments at the sandbox."""
        units: dict[str, int] = {}
        for fulfillment in self.wix.client().order(order.order_id)["fulfillments"]:
            for line in fulfillment["lineItems"]:
                units[line["id"]] = units.get(line["id"], 0) + line["quantity"]
        return units

    def calls(self, endpoint: str) -> int:
        counts: dict[str, int] = self.wix.client().stats()["calls"].get(endpoint, {})
        return sum(counts.values())
