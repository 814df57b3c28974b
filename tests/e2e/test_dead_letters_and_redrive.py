"""An order Wix keeps refusing: retried as configured, dead-lettered, then redriven once fixed."""

from __future__ import annotations

import io
import json
import time
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from infra.commands import redrive
from infra.local_stack.stack import LocalStack, StackSettings
from infra.scenarios.demo import PlacedOrder, settle
from infra.template import resource_properties
from tests.support.templates import WORKER_TIMEOUT, edited_template
from wix_fulfillment.adapters.order_item import order_key

pytestmark = pytest.mark.integration


def wait_for_dead_letters(path: Path, timeout: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return [json.loads(line) for line in path.read_text().splitlines()]
        time.sleep(0.2)
    raise TimeoutError(f"nothing in {path} after {timeout} s")


def run_redrive(stack: LocalStack, dead_letters: Path) -> str:
    printed = io.StringIO()
    with redirect_stdout(printed):
        exit_code = redrive.main(
            [
                "--table",
                stack.table_names["OrdersTable"],
                "--dead-letter-file",
                str(dead_letters),
                "--endpoint-url",
                stack.dynamodb.endpoint_url,
            ]
        )
    assert exit_code == 0
    return printed.getvalue().strip()


def test_a_refused_order_is_dead_lettered_then_fulfilled_once_after_redrive(
    tmp_path: Path,
) -> None:
    # Time for one round and no wait for another: each of the stream's attempts ends at once.
    copy = edited_template(tmp_path, {WORKER_TIMEOUT: WORKER_TIMEOUT.replace("300", "31")})
    settings = StackSettings(template_path=copy, work_dir=tmp_path, log=lambda _: None)
    with LocalStack(settings) as stack:
        site = stack.wix.create_site()
        stack.wix.set_faults({"bulkCreate": {"errorRate": 1.0, "instanceIds": [site]}})
        created = stack.wix.create_order(site, generate={"kind": "physical", "quantity": 2})
        order = PlacedOrder(site, created["id"], "refused", ())
        dead_letters = tmp_path / "dead-letters" / "FulfillmentDeadLetterQueue.jsonl"

        [letter] = wait_for_dead_letters(dead_letters, timeout=90)
        stuck = stack.dynamodb.client().get_item(
            TableName=stack.table_names["OrdersTable"],
            Key={"pk": {"S": order_key(site, order.order_id)}},
        )["Item"]
        stack.wix.clear_faults()
        first_redrive = run_redrive(stack, dead_letters)
        statuses = settle(stack, [order], timeout=60)
        second_redrive = run_redrive(stack, dead_letters)
        fulfillments = stack.wix.order(order.order_id)["fulfillments"]
        retries = resource_properties(stack.template, "FulfillmentFunction")["Events"][
            "OrderStream"
        ]["Properties"]["MaximumRetryAttempts"]

    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"  # type: ignore[index]
    assert stuck["status"] == {"S": "PENDING"}
    assert stuck["attempts"] == {"N": str(retries + 1)}
    assert "create outcome unknown" in stuck["lastError"]["S"]
    assert first_redrive == (
        "redrive: 1 dead letters, 1 orders marked for the stream again, 0 already settled or marked"
    )
    assert statuses == {order.order_id: "FULFILLED"}
    [fulfillment] = fulfillments
    assert sum(line["quantity"] for line in fulfillment["lineItems"]) == 2
    assert second_redrive.startswith("redrive: 0 dead letters")
