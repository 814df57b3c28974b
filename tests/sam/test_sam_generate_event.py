"""``sam local generate-event`` prints AWS's canonical events; where SAM has one for a function's
trigger, our function takes its shape, run in Docker with ``sam local invoke``."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from infra.sam.sample_events import ORDER_APPROVED_EVENT_PATH
from tests.support.sam_local import lambda_answer, shell

pytestmark = pytest.mark.usefixtures("local_services")

INVOKE_OPTIONS = (
    "--env-vars infra/env.json --parameter-overrides Architecture=x86_64 "
    "--add-host host.docker.internal:172.17.0.1 "
    "--invoke-image wix-fulfillment/lambda-python3.13-standin:x86_64 --skip-pull-image"
)


def generated(built: Path, sam_env: dict[str, str], arguments: str, name: str) -> Path:
    path = built / ".aws-sam" / name
    path.write_text(shell(f"sam local generate-event {arguments}", built, sam_env).stdout)
    return path


def test_an_http_api_event_from_sam_carrying_a_signed_webhook_is_accepted(
    built: Path, sam_env: dict[str, str]
) -> None:
    token = json.loads(ORDER_APPROVED_EVENT_PATH.read_text())["body"]
    event = generated(
        built,
        sam_env,
        f"apigateway http-api-proxy --method POST --path /webhooks/wix --body {shlex.quote(token)}",
        "generated_http_api.json",
    )
    assert json.loads(event.read_text())["version"] == "2.0"

    answer = lambda_answer(
        shell(f"sam local invoke WebhookFunction --event {event} {INVOKE_OPTIONS}", built, sam_env)
    )

    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"status": "accepted"})


def test_a_stream_event_from_sam_is_read_record_by_record(
    built: Path, sam_env: dict[str, str]
) -> None:
    """SAM's records are another table's items: the worker reads the batch and reports each one
    it cannot take by its sequence number, as ReportBatchItemFailures wants (Lambda retries them,
    then the on-failure queue keeps them)."""
    event = generated(built, sam_env, "dynamodb update", "generated_stream.json")
    records = json.loads(event.read_text())["Records"]

    answer = lambda_answer(
        shell(
            f"sam local invoke FulfillmentFunction --event {event} {INVOKE_OPTIONS}",
            built,
            sam_env,
        )
    )

    assert answer == {
        "batchItemFailures": [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]} for record in records
        ]
    }
