"""Benchmark 5: 1,000 orders end to end through the local stack, webhook to fulfilled: wall time,
throughput and per-order latency (from the order's approval at the sandbox to FULFILLED in the
table, both on this machine's clock). It includes the stream mapping's batching window."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Final

from infra.local_stack.stack import LocalStack, StackSettings
from infra.scenarios.chaos import settled_items
from tests.perf.figures import Row, percentile

ORDERS: Final = 1000
SITES: Final = 5


def _quiet(line: str) -> None:
    """The per-webhook lines would drown the table."""


def run() -> list[Row]:
    with LocalStack(StackSettings(log=_quiet)) as stack:
        window = stack.wiring.stream_mappings[0].batching_window_seconds
        sites = [stack.wix.create_site() for _ in range(SITES)]
        approved_at: dict[str, datetime] = {}
        started = time.monotonic()
        for index in range(ORDERS // 100):
            created = stack.wix.create_orders(
                sites[index % SITES],
                generate={"kind": "physical", "lineItems": 2, "quantity": 2, "count": 100},
            )
            for order in created["orders"]:
                approved_at[order["id"]] = datetime.fromisoformat(order["createdDate"])
        items = settled_items(stack, ORDERS, timeout=600)
        wall = time.monotonic() - started
    latencies = [
        (
            datetime.fromisoformat(item["updatedAt"]["S"]) - approved_at[item["orderId"]["S"]]
        ).total_seconds()
        for item in items
        if item["status"]["S"] == "FULFILLED"
    ]
    assert len(latencies) == ORDERS, f"{len(latencies)} of {ORDERS} fulfilled"
    label = f"{ORDERS:,} orders on {SITES} sites, local stack"
    return [
        Row(f"end to end: wall time ({label})", wall, "s"),
        Row(f"end to end: throughput ({label})", ORDERS / wall, "orders/s"),
        Row(
            f"end to end: p50 webhook to fulfilled ({label})",
            percentile(latencies, 0.5),
            "s",
            note=f"includes the {window:g} s batching window",
        ),
        Row(f"end to end: p99 webhook to fulfilled ({label})", percentile(latencies, 0.99), "s"),
    ]
