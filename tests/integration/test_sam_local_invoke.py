"""The sample events and env file work the way `sam local invoke` uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.env_file import ENV_VARS_PATH
from infra.sam.local_env import function_environment, function_handler
from infra.sam.sample_events import (
    LOCAL_TABLE_NAME,
    ORDER_APPROVED_EVENT_PATH,
    ORDER_STREAM_EVENT_PATH,
)
from infra.samples.dev_data import DEV_INSTANCE_ID, sample_flow_order
from infra.template import resource_properties
from infra.wix_sandbox import SandboxConfig, WixSandbox
from tests.support.webhooks import SEED_ORDER_ID

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the Lambda runtime does with the template's Handler: import the module, call the function
# with the event and a context that knows the function's timeout.
INVOKE = """
import importlib, json, sys, time
module_name, function_name = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
deadline = time.monotonic() + float(sys.argv[3])
class Context:
    function_name, memory_limit_in_mb, aws_request_id = "local", 512, "local-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:local"
    def get_remaining_time_in_millis(self):
        return int((deadline - time.monotonic()) * 1000)
print(json.dumps(handler(json.load(open(sys.argv[2])), Context())))
"""


def sam_local_invoke(
    template: dict[str, Any], function_id: str, event_path: Path, **overrides: str
) -> dict[str, Any]:
    """Run the function's handler in a fresh process with what sam local invoke would give it:
    the template's declared variables, valued from env.json, except what ``overrides`` says."""
    environment = function_environment(template, function_id, ENV_VARS_PATH)
    assert environment["TABLE_NAME"] == LOCAL_TABLE_NAME
    environment |= {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # sam local invoke passes the user's own credentials, not the ones the tables were
        # created with: DynamoDB Local must serve one database to every caller.
        "AWS_ACCESS_KEY_ID": "AKIASAMLOCALUSER0001",
        "AWS_SECRET_ACCESS_KEY": "someone-elses-secret",
        "PATH": os.environ["PATH"],
        **overrides,
    }
    timeout = resource_properties(template, function_id).get("Timeout") or template["Globals"][
        "Function"
    ].get("Timeout", 3)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            INVOKE,
            function_handler(template, function_id),
            str(event_path),
            str(timeout),
        ],
        cwd=REPO_ROOT / "functions",
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return answer


def test_sample_webhook_event_with_env_file_stores_the_order(
    template: dict[str, Any],
    dynamodb_local: DynamoDBLocal,
    dynamodb: DynamoDBClient,
    orders_table: str,
) -> None:
    # Inside Docker, env.json's endpoints reach the host's DynamoDB Local; here the test's own
    # DynamoDB Local and table stand in for it.
    response = sam_local_invoke(
        template,
        "WebhookFunction",
        ORDER_APPROVED_EVENT_PATH,
        AWS_ENDPOINT_URL_DYNAMODB=dynamodb_local.endpoint_url,
        TABLE_NAME=orders_table,
    )

    assert response["statusCode"] == 200, response
    stored = {item["pk"]["S"] for item in dynamodb.scan(TableName=orders_table)["Items"]}
    assert stored == {f"ORDER#{DEV_INSTANCE_ID}#{SEED_ORDER_ID}", f"SITE#{DEV_INSTANCE_ID}"}


@pytest.fixture
def dev_site_sandbox() -> Iterator[WixSandbox]:
    """The sandbox as `make sandbox` runs it, with the sample-flow order placed."""
    with WixSandbox(SandboxConfig(sites=(DEV_INSTANCE_ID,))) as sandbox:
        sandbox.client().create_order(
            DEV_INSTANCE_ID, order=sample_flow_order(), deliver_webhook=False
        )
        yield sandbox


def test_sample_stream_event_with_env_file_fulfills_the_order(
    template: dict[str, Any],
    dynamodb_local: DynamoDBLocal,
    dynamodb: DynamoDBClient,
    orders_table: str,
    dev_site_sandbox: WixSandbox,
) -> None:
    [record] = json.loads(ORDER_STREAM_EVENT_PATH.read_text())["Records"]
    dynamodb.put_item(TableName=orders_table, Item=record["dynamodb"]["NewImage"])

    answer = sam_local_invoke(
        template,
        "FulfillmentFunction",
        ORDER_STREAM_EVENT_PATH,
        AWS_ENDPOINT_URL_DYNAMODB=dynamodb_local.endpoint_url,
        TABLE_NAME=orders_table,
        WIX_API_BASE_URL=dev_site_sandbox.base_url,
        SHIPMENT_PROVIDER_URL=f"{dev_site_sandbox.base_url}/_sandbox/carrier/labels",
    )

    assert answer == {"batchItemFailures": []}
    order_id = sample_flow_order()["id"]
    [fulfillment] = dev_site_sandbox.client().order(order_id)["fulfillments"]
    assert fulfillment["trackingInfo"]["shippingProvider"] == "fedex"
    [item] = dynamodb.scan(TableName=orders_table)["Items"]
    assert item["status"] == {"S": "FULFILLED"}
