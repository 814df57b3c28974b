"""Fixtures of the fulfillment worker's test bed (see worker_bed.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.dynamodb_stream import StreamReader
from infra.local_stack.event_filter import matches_any
from infra.local_stack.wiring import read_wiring
from infra.wix_sandbox import SandboxConfig, WixSandbox
from tests.support.lambda_functions import ColdStart, Handler
from tests.support.worker_bed import WorkerBed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# A cold start re-imports the Wix client too: its pool and token cache are per environment.
WORKER_MODULES = ("wix_fulfillment.handlers.fulfillment",)


@pytest.fixture
def wix_sandbox() -> Iterator[WixSandbox]:
    with WixSandbox(SandboxConfig()) as sandbox:
        yield sandbox


@pytest.fixture
def worker_bed(
    dynamodb_local: DynamoDBLocal,
    dynamodb: DynamoDBClient,
    orders_table: str,
    wix_sandbox: WixSandbox,
    cold_start: ColdStart,
    template: dict[str, Any],
) -> WorkerBed:
    def load_worker(**environment: str) -> Handler:
        defaults = {
            "TABLE_NAME": orders_table,
            "WIX_APP_ID": wix_sandbox.app_id,
            "WIX_APP_SECRET": wix_sandbox.app_secret,
            "WIX_API_BASE_URL": wix_sandbox.base_url,
            "SHIPMENT_PROVIDER": "http",
            "SHIPMENT_PROVIDER_URL": f"{wix_sandbox.base_url}/_sandbox/carrier/labels",
        }
        return cold_start(WORKER_MODULES, defaults | environment)

    stream = StreamReader(dynamodb, dynamodb_local.streams_client(), orders_table)
    patterns = read_wiring(template).stream_mappings[0].filter_patterns
    return WorkerBed(
        dynamodb,
        orders_table,
        stream,
        wix_sandbox,
        load_worker,
        lambda record: matches_any(patterns, record),
    )
