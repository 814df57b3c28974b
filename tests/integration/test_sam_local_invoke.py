"""The sample event and env file work the way `sam local invoke` uses them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.dynamodb_local import DynamoDBLocal
from infra.sam_local import function_environment, function_handler
from infra.sample_events import (
    DEV_INSTANCE_ID,
    ENV_VARS_PATH,
    LOCAL_TABLE_NAME,
    ORDER_APPROVED_EVENT_PATH,
)
from tests.webhooks import SEED_ORDER_ID

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the Lambda runtime does with the template's Handler: import the module, call the function.
INVOKE = """
import importlib, json, sys
module_name, function_name = sys.argv[1].rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), function_name)
print(json.dumps(handler(json.load(open(sys.argv[2])), None)))
"""


def test_sample_event_with_env_file_stores_the_order(
    template: dict[str, Any],
    dynamodb_local: DynamoDBLocal,
    dynamodb: DynamoDBClient,
    orders_table: str,
) -> None:
    environment = function_environment(template, "WebhookFunction", ENV_VARS_PATH)
    assert environment["TABLE_NAME"] == LOCAL_TABLE_NAME
    # Inside Docker, env.json's endpoint reaches the host's DynamoDB Local; here the test's
    # own DynamoDB Local and table stand in for it.
    environment |= {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "TABLE_NAME": orders_table,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # sam local invoke passes the user's own credentials, not the ones the tables were
        # created with: DynamoDB Local must serve one database to every caller.
        "AWS_ACCESS_KEY_ID": "AKIASAMLOCALUSER0001",
        "AWS_SECRET_ACCESS_KEY": "someone-elses-secret",
        "PATH": os.environ["PATH"],
    }

    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            INVOKE,
            function_handler(template, "WebhookFunction"),
            str(ORDER_APPROVED_EVENT_PATH),
        ],
        cwd=REPO_ROOT / "functions",
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout.strip().splitlines()[-1])
    assert response["statusCode"] == 200, response
    [item] = dynamodb.scan(TableName=orders_table)["Items"]
    assert item["pk"] == {"S": f"ORDER#{DEV_INSTANCE_ID}#{SEED_ORDER_ID}"}
