"""The README's ``sam local invoke`` walkthrough, command by command, in the order it gives them:
the sample-flow order placed at the sandbox, its webhook (accepted, then duplicate), the worker
with the stream's record of it (the sandbox then holds its fulfillment, with tracking), and the
status function (our record beside Wix's listing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.samples.dev_data import DEV_INSTANCE_ID, sample_flow_order
from tests.support.sam_local import lambda_answer, shell

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from infra.wix_sandbox.client import SandboxClient

pytestmark = pytest.mark.usefixtures("local_services")

PLACE_SAMPLE_FLOW_ORDER = (
    "curl -s 172.17.0.1:8700/_sandbox/orders -H 'content-type: application/json' -d "
    '"{\\"instanceId\\": \\"6a1f3c9e-2b7d-4e58-9c0a-1d2e3f4a5b6c\\", \\"deliverWebhook\\": false, '
    '\\"order\\": $(cat infra/samples/seed/sample_flow_order.json)}"'
)
INVOKE_WEBHOOK = (
    "sam local invoke WebhookFunction --event infra/events/sample_flow_approved.json "
    "--env-vars infra/env.json --parameter-overrides Architecture=x86_64 "
    "--add-host host.docker.internal:172.17.0.1 "
    "--invoke-image wix-fulfillment/lambda-python3.13-standin:x86_64 --skip-pull-image"
)
INVOKE_FULFILLMENT = (
    "sam local invoke FulfillmentFunction --event infra/events/order_stream.json "
    "--env-vars infra/env.json --parameter-overrides Architecture=x86_64 "
    "--add-host host.docker.internal:172.17.0.1 "
    "--invoke-image wix-fulfillment/lambda-python3.13-standin:x86_64 --skip-pull-image"
)
INVOKE_STATUS = (
    "sam local invoke StatusFunction --event infra/events/order_status.json "
    "--env-vars infra/env.json --parameter-overrides Architecture=x86_64 "
    "--add-host host.docker.internal:172.17.0.1 "
    "--invoke-image wix-fulfillment/lambda-python3.13-standin:x86_64 --skip-pull-image"
)
ORDER_ID = sample_flow_order()["id"]


def test_sam_build_builds_every_function_for_x86_64(built: Path) -> None:
    build = built / ".aws-sam" / "build"
    template = (build / "template.yaml").read_text()

    for function_id in ("WebhookFunction", "FulfillmentFunction", "StatusFunction"):
        assert (build / function_id / "wix_fulfillment" / "handlers").is_dir(), function_id
        assert function_id in template
    [library] = (build / "WebhookFunction" / "cryptography").rglob("_rust*.so")
    assert library.read_bytes()[18:20] == (62).to_bytes(2, "little"), "not x86_64 native code"


def test_the_sample_flow_order_is_placed_at_the_sandbox(
    built: Path, sam_env: dict[str, str], sandbox: SandboxClient
) -> None:
    answer = json.loads(shell(PLACE_SAMPLE_FLOW_ORDER, built, sam_env).stdout)

    assert [order["id"] for order in answer["orders"]] == [ORDER_ID]
    assert answer["deliveries"] == []
    assert sandbox.order(ORDER_ID)["fulfillments"] == []


def test_the_webhook_is_accepted_then_a_duplicate(
    built: Path, sam_env: dict[str, str], dynamodb: DynamoDBClient
) -> None:
    first = lambda_answer(shell(INVOKE_WEBHOOK, built, sam_env))
    second = lambda_answer(shell(INVOKE_WEBHOOK, built, sam_env))

    assert (first["statusCode"], json.loads(first["body"])) == (200, {"status": "accepted"})
    assert (second["statusCode"], json.loads(second["body"])) == (200, {"status": "duplicate"})
    item = stored_item(dynamodb)
    assert item["status"] == {"S": "PENDING"}


def test_the_worker_fulfills_the_order_with_tracking(
    built: Path, sam_env: dict[str, str], sandbox: SandboxClient, dynamodb: DynamoDBClient
) -> None:
    answer = lambda_answer(shell(INVOKE_FULFILLMENT, built, sam_env))

    assert answer == {"batchItemFailures": []}
    [fulfillment] = sandbox.order(ORDER_ID)["fulfillments"]
    assert fulfillment["trackingInfo"]["shippingProvider"] == "fedex"
    assert fulfillment["trackingInfo"]["trackingNumber"]
    assert stored_item(dynamodb)["status"] == {"S": "FULFILLED"}


def test_the_status_function_answers_our_record_and_wixs_listing(
    built: Path, sam_env: dict[str, str], sandbox: SandboxClient
) -> None:
    answer = lambda_answer(shell(INVOKE_STATUS, built, sam_env))

    assert answer["statusCode"] == 200
    body = json.loads(answer["body"])
    assert body["order"]["status"] == "FULFILLED"
    assert body["wixError"] is None
    [fulfillment] = body["wix"]["orderWithFulfillments"]["fulfillments"]
    assert [fulfillment["id"]] == body["order"]["fulfillmentIds"]
    assert [fulfillment["id"]] == [f["id"] for f in sandbox.order(ORDER_ID)["fulfillments"]]


def stored_item(dynamodb: DynamoDBClient) -> dict[str, Any]:
    found = dynamodb.get_item(
        TableName="wix-orders-local", Key={"pk": {"S": f"ORDER#{DEV_INSTANCE_ID}#{ORDER_ID}"}}
    )
    assert "Item" in found, "the order is not in DynamoDB Local's table"
    return dict(found["Item"])
