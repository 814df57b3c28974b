"""The whole local stack: the sandbox's webhooks over HTTP, DynamoDB Local, stream polling, the
worker, and what the sandbox ("Wix") holds at the end."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from botocore.credentials import Credentials

from infra.commands.order_status import order_status
from infra.local_stack.stack import LocalStack, StackSettings
from infra.samples.dev_data import DEV_INSTANCE_ID
from infra.scenarios.demo import PlacedOrder, place_demo_orders, settle, sweep_once_delivered
from infra.wix_sandbox.order_factory import line_item_id
from tests.support.log_hygiene import leaks, log_lines
from tests.support.templates import edited_template
from wix_fulfillment.adapters.order_item import order_key

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    settings = StackSettings(work_dir=tmp_path_factory.mktemp("stack"), log=lambda line: None)
    with LocalStack(settings) as running:
        yield running


def fulfilled_units(stack: LocalStack, order: PlacedOrder) -> Counter[str]:
    units: Counter[str] = Counter()
    for fulfillment in stack.wix.order(order.order_id)["fulfillments"]:
        for line in fulfillment["lineItems"]:
            units[line["id"]] += line["quantity"]
    return units


def test_the_demo_orders_end_as_wix_should_hold_them(stack: LocalStack) -> None:
    placed = place_demo_orders(stack.wix)

    sweep = sweep_once_delivered(stack)
    statuses = settle(stack, placed, timeout=60)

    sample, digital, mixed, multi, partly, canceled, refunded, lost = placed
    assert [statuses[order.order_id] for order in placed] == [
        "FULFILLED",
        "SKIPPED",
        "FULFILLED",
        "FULFILLED",
        "FULFILLED",
        "CANCELED",
        "FULFILLED",
        "FULFILLED",
    ]
    assert sweep["ordersRecovered"] == 1
    [lost_delivery] = stack.wix.deliveries(order_id=lost.order_id)["deliveries"]
    assert (lost_delivery["state"], lost_delivery["attempts"]) == ("lost", [])
    recovered = stack.dynamodb.client().get_item(
        TableName=stack.table_names["OrdersTable"],
        Key={"pk": {"S": order_key(lost.instance_id, lost.order_id)}},
    )["Item"]
    assert recovered["eventId"]["S"].startswith("sweep:")
    assert len(stack.wix.order(lost.order_id)["fulfillments"]) == 1
    [fulfillment] = stack.wix.order(sample.order_id)["fulfillments"]
    assert fulfillment["lineItems"] == [{"id": line_item_id(1), "quantity": 1}]
    assert fulfillment["trackingInfo"]["trackingLink"].startswith("https://www.fedex.com/")
    assert stack.wix.order(digital.order_id)["fulfillments"] == []
    shippable = {
        line["id"]: line["quantity"]
        for line in stack.wix.order(mixed.order_id)["order"]["lineItems"]
        if line["physicalProperties"]["shippable"]
    }
    assert fulfilled_units(stack, mixed) == Counter(shippable)
    assert fulfilled_units(stack, multi) == Counter({line_item_id(1): 4, line_item_id(2): 4})
    assert fulfilled_units(stack, partly) == Counter({line_item_id(1): 2, line_item_id(2): 2})
    assert len(stack.wix.order(partly.order_id)["fulfillments"]) == 2
    assert stack.wix.order(canceled.order_id)["fulfillments"] == []
    assert fulfilled_units(stack, refunded) == Counter({line_item_id(1): 2})
    for order in (sample, digital, mixed, multi, partly):
        assert stack.wix.order(order.order_id)["order"]["fulfillmentStatus"] == "FULFILLED"
    sample_deliveries = stack.wix.wait_for_deliveries(order_id=sample.order_id)
    assert len(sample_deliveries) == 3
    assert {d["attempts"][-1]["status"] for d in sample_deliveries} == {200}
    assert stack.wix.stats()["rejectedOverFulfillments"] == 0


def status_of(stack: LocalStack, order: PlacedOrder) -> tuple[int, dict[str, Any]]:
    return order_status(
        stack.http_api.base_url + "/orders",
        order.instance_id,
        order.order_id,
        Credentials("local", "local"),
        "us-east-1",
    )


def test_the_status_endpoint_shows_our_record_and_wixs_fulfillments(stack: LocalStack) -> None:
    site = stack.wix.create_site()
    physical = stack.wix.create_order(site, generate={"kind": "physical"})
    digital_order = stack.wix.create_order(site, generate={"kind": "digital"})
    sample = PlacedOrder(site, physical["id"], "physical", ())
    digital = PlacedOrder(site, digital_order["id"], "digital", ())
    unknown = PlacedOrder(site, "11111111-2222-4333-8444-555555555555", "none", ())
    settle(stack, [sample, digital], timeout=60)
    unsigned = urllib3.request(
        "GET", f"{stack.http_api.base_url}/orders/{sample.order_id}/fulfillments?instanceId={site}"
    )

    fulfilled_status, fulfilled = status_of(stack, sample)
    skipped_status, skipped = status_of(stack, digital)
    unknown_status, missing = status_of(stack, unknown)

    assert fulfilled_status == 200
    assert fulfilled["order"]["status"] == "FULFILLED"
    [fulfillment] = fulfilled["wix"]["orderWithFulfillments"]["fulfillments"]
    assert fulfilled["order"]["fulfillmentIds"] == [fulfillment["id"]]
    assert skipped_status == 200
    assert skipped["order"]["status"] == "SKIPPED"
    assert skipped["order"]["statusReason"] == "no line item to fulfill"
    assert skipped["wix"]["orderWithFulfillments"]["fulfillments"] == []
    assert (unknown_status, missing["error"]) == (404, "no such order")
    assert unsigned.status == 403


def test_unknown_routes_get_api_gateways_404(stack: LocalStack) -> None:
    response = urllib3.request("POST", stack.http_api.base_url + "/webhooks/other", body=b"x")

    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


def test_make_demo_reports_every_order_settled_and_no_duplicate_and_leaks_nothing(
    tmp_path: Path,
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "infra.scenarios.demo", "--work-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == (
        "demo: 8 orders approved, 6 fulfilled (1 recovered by a sweep), 1 skipped, 1 canceled,"
        " 0 duplicate fulfillments"
    )
    # The demo's own printout is Wix's listing (no buyer data in it either); the logs are the
    # functions' and the stack's.
    assert leaks(log_lines(tmp_path) + completed.stdout.splitlines()) == []


def test_the_stack_follows_the_templates_routes_and_filters(tmp_path: Path) -> None:
    copy = edited_template(
        tmp_path,
        {
            "Path: /webhooks/wix": "Path: /hooks/wix-orders",
            "MaximumBatchingWindowInSeconds: 5": "MaximumBatchingWindowInSeconds: 0",
            '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status"': (
                '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"instanceId": {"S": '
                f'["{DEV_INSTANCE_ID}"]}}, "status"'
            ),
        },
    )
    settings = StackSettings(template_path=copy, work_dir=tmp_path / "work", log=lambda _: None)
    with LocalStack(settings) as stack:
        other_site = stack.wix.create_site()
        filtered_out = stack.wix.create_order(other_site, generate={"kind": "physical"})
        [delivery] = stack.wix.wait_for_deliveries(order_id=filtered_out["id"])
        passing = stack.wix.create_order(DEV_INSTANCE_ID, generate={"kind": "physical"})
        # Stored after the first, so once it is fulfilled the first has been read and passed over.
        passed_statuses = settle(
            stack, [PlacedOrder(DEV_INSTANCE_ID, passing["id"], "dev site", ())], timeout=30
        )
        filtered_statuses = settle(
            stack, [PlacedOrder(other_site, filtered_out["id"], "other site", ())], timeout=0
        )
        old_path = urllib3.request("POST", stack.http_api.base_url + "/webhooks/wix", body=b"x")

    assert delivery["attempts"][-1]["status"] == 200
    assert passed_statuses == {passing["id"]: "FULFILLED"}
    assert filtered_statuses == {filtered_out["id"]: "PENDING"}
    assert old_path.status == 404
