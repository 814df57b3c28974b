"""Benchmark 4: a 1,000-order burst on one site through the worker, against DynamoDB Local and
the Wix sandbox: Wix calls per order and DynamoDB capacity units per order (as DynamoDB reports
them, ``ReturnConsumedCapacity``), ours against a naive worker that takes orders one at a time
(token, list, create, record) measured the same way. The write units of the note before each
create (what makes a record exact after a crash) are also shown on their own.

On loopback a Wix call costs nothing, which flatters the naive worker's three calls an order; a
second, smaller burst has the sandbox answer every Wix call after ``WIX_LATENCY_MS``, a fraction
of what a call across the internet to Wix takes, for both workers alike.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Final

import boto3
import urllib3

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.dynamodb_stream import StreamReader, lambda_stream_event
from infra.local_stack.wiring import read_wiring
from infra.samples.dev_data import approved_order
from infra.template import create_table_from_template, load_template
from infra.wix_sandbox import SandboxConfig, WixSandbox
from infra.wix_sandbox.faults import FAULTABLE_ENDPOINTS
from tests.perf.figures import Row
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import IntakeStore
from wix_fulfillment.adapters.order_item import BEFORE_CREATE, order_key

ORDERS: Final = 1000
LATENCY_ORDERS: Final = 200
WIX_LATENCY_MS: Final = 25
"""Each Wix call's latency in the second burst: low for an API across the internet."""
WORKER_MODULES: Final = ("wix_fulfillment.handlers.fulfillment",)
WIX_LIMIT_PER_MINUTE: Final = 200
BENCH_ENVIRONMENT: Final = {
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


class Capacity:
    """Adds ReturnConsumedCapacity to every DynamoDB call of boto3's default session and sums
    what DynamoDB reports: instrumentation, not a stand-in (the calls go to DynamoDB Local).
    An update that sets the note before a create is summed under "note" as well as "write"."""

    def __init__(self) -> None:
        self.units: Counter[str] = Counter()
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        session = boto3.DEFAULT_SESSION
        assert session is not None
        session.events.register("provide-client-params.dynamodb.*", self._ask)
        session.events.register("after-call.dynamodb.*", self._count)

    def _ask(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"
        names = params.get("ExpressionAttributeNames", {}).values()
        context["note_before_create"] = model.name == "UpdateItem" and BEFORE_CREATE in names

    def _count(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity")
        entries = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        kind = "read" if model.name in {"GetItem", "BatchGetItem", "Query", "Scan"} else "write"
        units = sum(entry.get("CapacityUnits", 0) for entry in entries)
        self.units[kind] += units
        if context.get("note_before_create"):
            self.units["note"] += units


@contextmanager
def bed(latency_ms: float = 0) -> Iterator[tuple[DynamoDBLocal, WixSandbox, str]]:
    with (
        DynamoDBLocal() as dynamodb,
        WixSandbox(SandboxConfig(rate_limit_per_minute=1_000_000)) as wix,
    ):
        if latency_ms:
            wix.client().set_faults(
                {name: {"latencyMs": latency_ms} for name in FAULTABLE_ENDPOINTS - {"carrier"}}
            )
        os.environ.update(BENCH_ENVIRONMENT | {"AWS_ENDPOINT_URL_DYNAMODB": dynamodb.endpoint_url})
        table = f"bench-{uuid.uuid4().hex[:8]}"
        create_table_from_template(dynamodb.client(), load_template(), "OrdersTable", table)
        yield dynamodb, wix, table


def place(wix: WixSandbox, site: str, count: int) -> list[Any]:
    orders = []
    for _ in range(count // 100):
        created = wix.client().create_orders(
            site,
            deliver_webhook=False,
            generate={"kind": "physical", "lineItems": 2, "quantity": 2, "count": 100},
        )
        orders += [approved_order(site, order, str(uuid.uuid4())) for order in created["orders"]]
    return orders


def wix_calls(wix: WixSandbox) -> int:
    calls = wix.client().stats()["calls"]
    return sum(sum(codes.values()) for name, codes in calls.items() if name != "carrier")


def our_worker(table: str, wix: WixSandbox) -> Callable[[dict[str, Any], Any], Any]:
    os.environ.update(
        {
            "TABLE_NAME": table,
            "WIX_APP_ID": wix.app_id,
            "WIX_APP_SECRET": wix.app_secret,
            "WIX_API_BASE_URL": wix.base_url,
            "SHIPMENT_PROVIDER": "none",
        }
    )
    module = None
    for name in WORKER_MODULES:
        module = (
            importlib.reload(sys.modules[name])
            if name in sys.modules
            else importlib.import_module(name)
        )
    handler: Callable[[dict[str, Any], Any], Any] = module.handler  # type: ignore[union-attr]
    return handler


class Context:
    function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "bench-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def measure_ours(
    count: int = ORDERS, latency_ms: float = 0
) -> tuple[float, float, float, float, float, float]:
    """(Wix calls, write units, read units, seconds, write units of the notes before creates,
    seconds of intake alone) per order for intake + our worker."""
    capacity = Capacity()
    with bed(latency_ms) as (dynamodb, wix, table):
        site = wix.client().create_site()
        orders = place(wix, site, count)
        intake = IntakeStore(Boto3Transport(boto3.client("dynamodb")), table, timedelta(days=90))
        started = time.perf_counter()
        for order in orders:
            intake.insert_if_new(order)
        intake_seconds = time.perf_counter() - started
        worker = our_worker(table, wix)
        reader = StreamReader(dynamodb.client(), dynamodb.streams_client(), table)
        batch_size = read_wiring(load_template()).stream_mappings[0].batch_size
        records = reader.read()
        for start in range(0, len(records), batch_size):
            answer = worker(lambda_stream_event(records[start : start + batch_size]), Context())
            assert answer == {"batchItemFailures": []}, answer
        seconds = time.perf_counter() - started
        calls = wix_calls(wix)
    return (
        calls / count,
        capacity.units["write"] / count,
        capacity.units["read"] / count,
        seconds / count,
        capacity.units["note"] / count,
        intake_seconds / count,
    )


def measure_naive(
    count: int = ORDERS, latency_ms: float = 0
) -> tuple[float, float, float, float, float]:
    """The usual way: per order, a token, a listing, a create and a status update; the last
    figure is the seconds per order of its intake writes alone."""
    capacity = Capacity()
    http = urllib3.PoolManager()
    with bed(latency_ms) as (_, wix, table):
        site = wix.client().create_site()
        orders = place(wix, site, count)
        client = boto3.client("dynamodb")
        intake = IntakeStore(Boto3Transport(client), table, timedelta(days=90))
        started = time.perf_counter()
        intake_seconds = 0.0
        for order in orders:
            writing = time.perf_counter()
            intake.insert_if_new(order)
            intake_seconds += time.perf_counter() - writing
            token = http.request(
                "POST",
                f"{wix.base_url}/oauth2/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": wix.app_id,
                    "client_secret": wix.app_secret,
                    "instance_id": site,
                },
            ).json()["access_token"]
            path = f"{wix.base_url}/ecom/v1/fulfillments/orders/{order.order_id}"
            http.request("GET", path, headers={"Authorization": token})
            http.request(
                "POST",
                f"{path}/create-fulfillment",
                headers={"Authorization": token},
                json={
                    "fulfillment": {
                        "lineItems": [
                            {"id": line.id, "quantity": line.quantity} for line in order.line_items
                        ]
                    }
                },
            )
            client.update_item(
                TableName=table,
                Key={"pk": {"S": order_key(order.instance_id, order.order_id)}},
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "FULFILLED"}},
            )
        seconds = time.perf_counter() - started
        calls = wix_calls(wix)
    return (
        calls / count,
        capacity.units["write"] / count,
        capacity.units["read"] / count,
        seconds / count,
        intake_seconds / count,
    )


def run() -> list[Row]:
    ours = measure_ours()
    naive = measure_naive()
    ours_late = measure_ours(LATENCY_ORDERS, WIX_LATENCY_MS)
    naive_late = measure_naive(LATENCY_ORDERS, WIX_LATENCY_MS)
    label = f"{ORDERS:,} orders, one site"
    at_limit = (
        f"at Wix's 200 calls/min: {ours[0] * ORDERS / WIX_LIMIT_PER_MINUTE:.1f} min"
        f" vs {naive[0] * ORDERS / WIX_LIMIT_PER_MINUTE:.0f} min"
    )
    return [
        Row(
            f"worker: Wix calls per order ({label})",
            ours[0],
            "calls",
            "naive",
            naive[0],
            target_at_most=0.05,
            note=at_limit,
        ),
        Row(
            f"intake + worker: write units per order ({label})",
            ours[1],
            "WCU",
            "naive",
            naive[1],
            target_at_most=2,
        ),
        Row(
            f"worker: write units per order of the note before a create ({label})",
            ours[4],
            "WCU",
            note="in the row above: what keeps a record exact after a crash",
        ),
        Row(f"intake + worker: read units per order ({label})", ours[2], "RCU", "naive", naive[2]),
        Row(
            f"intake + worker: time per order ({label}, no carrier)",
            ours[3] * 1000,
            "ms",
            "naive",
            naive[3] * 1000,
        ),
        Row(
            f"worker alone: time per order ({label}, no carrier; the above less intake's writes)",
            (ours[3] - ours[5]) * 1000,
            "ms",
            "naive",
            (naive[3] - naive[4]) * 1000,
            target_ratio=0.5,
            note=f"intake's writes: ours {ours[5] * 1000:.2g} ms, naive {naive[4] * 1000:.2g} ms",
        ),
        Row(
            f"worker alone: time per order ({LATENCY_ORDERS} orders, each Wix call answered"
            f" after {WIX_LATENCY_MS} ms)",
            (ours_late[3] - ours_late[5]) * 1000,
            "ms",
            "naive",
            (naive_late[3] - naive_late[4]) * 1000,
            target_ratio=0.5,
            note="Wix's latency priced in, as it is off loopback",
        ),
    ]
