"""FulfillmentFunction against DynamoDB Local's stream and the Wix sandbox over HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import pytest

from infra.commands import list_fulfillments
from infra.samples.dev_data import sample_flow_order, seed_envelope
from tests.support.lambda_functions import Handler, function_log
from tests.support.webhooks import (
    KeyPair,
    answer,
    seed_order_envelope,
    signed_webhook,
    webhook_event,
)
from tests.support.worker_bed import LambdaContext, WorkerBed, retried_records
from wix_fulfillment.adapters.app_secret import NOT_SET
from wix_fulfillment.core.fulfillment_run import MIN_SECONDS_FOR_A_ROUND

pytestmark = pytest.mark.integration

FIRST_LINE_ITEM = "00000000-0000-0000-0000-000000000001"


def one_round() -> LambdaContext:
    """Time for one round and no wait for another: a run against a Wix that stays down."""
    return LambdaContext(seconds=MIN_SECONDS_FOR_A_ROUND + 1)


def test_seed_flow_physical_order_gets_one_fulfillment_with_tracking(
    worker_bed: WorkerBed,
) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, order=sample_flow_order())

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    [fulfillment] = worker_bed.wix.client().order(order.order_id)["fulfillments"]
    assert fulfillment["lineItems"] == [{"id": FIRST_LINE_ITEM, "quantity": 1}]
    tracking = fulfillment["trackingInfo"]
    assert tracking["shippingProvider"] == "fedex"
    assert tracking["trackingLink"] == (
        "https://www.fedex.com/apps/fedextrack/?action=track&trackingnumber="
        + tracking["trackingNumber"]
    )
    item = worker_bed.item(order)
    assert item["status"] == {"S": "FULFILLED"}
    assert item["fulfillmentIds"] == {"L": [{"S": fulfillment["id"]}]}
    assert item["attempts"] == {"N": "1"}


def test_listing_command_prints_what_wix_lists(worker_bed: WorkerBed) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, order=sample_flow_order())
    worker_bed.run_stream(worker_bed.load_worker())
    printed = io.StringIO()

    with redirect_stdout(printed):
        exit_code = list_fulfillments.main(
            [
                "--instance-id",
                site,
                "--order-id",
                order.order_id,
                "--app-id",
                worker_bed.wix.app_id,
                "--app-secret",
                worker_bed.wix.app_secret,
                "--base-url",
                worker_bed.wix.base_url,
            ]
        )

    assert exit_code == 0
    listing = json.loads(printed.getvalue())["orderWithFulfillments"]
    assert listing["orderId"] == order.order_id
    [fulfillment] = listing["fulfillments"]
    assert set(fulfillment) >= {"id", "createdDate", "lineItems", "trackingInfo"}
    assert fulfillment["lineItems"] == [{"id": FIRST_LINE_ITEM, "quantity": 1}]
    assert set(fulfillment["trackingInfo"]) == {
        "trackingNumber",
        "shippingProvider",
        "trackingLink",
    }


def test_digital_already_fulfilled_order_is_skipped_without_a_create(
    worker_bed: WorkerBed,
) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, order=seed_envelope()["actionEvent"]["body"]["order"])

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    assert worker_bed.status(order) == "SKIPPED"
    assert worker_bed.item(order)["statusReason"] == {"S": "no line item to fulfill"}
    assert worker_bed.calls("bulkCreate") + worker_bed.calls("create") == 0


def test_only_the_remainder_of_a_partly_fulfilled_order_is_created(
    worker_bed: WorkerBed,
) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(
        site,
        generate={"kind": "physical", "lineItems": 2, "quantity": 3},
        prefulfilled=[{"id": FIRST_LINE_ITEM, "quantity": 1}],
    )

    worker_bed.run_stream(worker_bed.load_worker())

    fulfillments = worker_bed.wix.client().order(order.order_id)["fulfillments"]
    assert [f["lineItems"] for f in fulfillments[1:]] == [
        [
            {"id": FIRST_LINE_ITEM, "quantity": 2},
            {"id": "00000000-0000-0000-0000-000000000002", "quantity": 3},
        ]
    ]
    assert (
        worker_bed.wix.client().order(order.order_id)["order"]["fulfillmentStatus"] == "FULFILLED"
    )
    assert worker_bed.status(order) == "FULFILLED"


def test_a_big_batch_costs_one_token_and_few_calls_per_site(worker_bed: WorkerBed) -> None:
    sites = [worker_bed.wix.client().create_site() for _ in range(3)]
    counts = (130, 70, 50)
    orders = [
        order
        for site, count in zip(sites, counts, strict=True)
        for order in worker_bed.place_orders(
            site, generate={"kind": "mixed", "lineItems": 3, "count": count}
        )
    ]

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    assert len(orders) == 250
    assert {worker_bed.status(order) for order in orders} == {"FULFILLED"}
    per_site = worker_bed.wix.client().stats()["callsByInstance"]
    # 100 orders a call: the 130-order site needs two of each, the others one.
    assert [per_site[site] for site in sites] == [
        {"token": 1, "searchOrders": 2, "listByIds": 2, "bulkCreate": 2},
        {"token": 1, "searchOrders": 1, "listByIds": 1, "bulkCreate": 1},
        {"token": 1, "searchOrders": 1, "listByIds": 1, "bulkCreate": 1},
    ]
    for order in orders:
        shippable = {line.id: line.quantity for line in order.line_items if line.shippable}
        assert worker_bed.fulfilled_units(order) == shippable


def test_flaky_wix_still_fulfills_every_unit_exactly_once(worker_bed: WorkerBed) -> None:
    sites = [worker_bed.wix.client().create_site() for _ in range(2)]
    orders = [
        order
        for site in sites
        for order in worker_bed.place_orders(
            site, generate={"kind": "physical", "lineItems": 2, "quantity": 2, "count": 15}
        )
    ]
    flaky = {"errorRate": 0.1, "errorStatus": 503, "throttleRate": 0.1, "timeoutRate": 0.1}
    worker_bed.wix.client().set_faults(
        {
            endpoint: flaky | {"timeoutSeconds": 0.2}
            for endpoint in ("token", "listByIds", "bulkCreate", "carrier")
        },
        seed=30,
    )

    answers = worker_bed.run_stream(worker_bed.load_worker(), max_invocations=10)

    assert answers[-1] == {"batchItemFailures": []}
    stats = worker_bed.wix.client().stats()
    assert stats["faultsInjected"], "the faults must really have been injected"
    assert stats["rejectedOverFulfillments"] == 0
    for order in orders:
        assert worker_bed.fulfilled_units(order) == {line.id: 2 for line in order.line_items}
        assert worker_bed.status(order) == "FULFILLED"


def test_one_site_down_fails_only_that_sites_records(worker_bed: WorkerBed) -> None:
    down, up = (worker_bed.wix.client().create_site() for _ in range(2))
    down_orders = worker_bed.place_orders(down, generate={"kind": "physical", "count": 3})
    up_orders = worker_bed.place_orders(up, generate={"kind": "physical", "count": 3})
    records = worker_bed.stream.read()
    sequence_of = {
        record["dynamodb"]["NewImage"]["orderId"]["S"]: record["dynamodb"]["SequenceNumber"]
        for record in records
    }
    worker_bed.wix.client().set_faults({"listByIds": {"errorRate": 1.0, "instanceIds": [down]}})

    [answer] = worker_bed.deliver(worker_bed.load_worker(), records, context=one_round)

    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    assert failed == {sequence_of[order.order_id] for order in down_orders}
    assert {worker_bed.status(order) for order in up_orders} == {"FULFILLED"}
    assert {worker_bed.status(order) for order in down_orders} == {"PENDING"}
    assert "HTTP 500" in worker_bed.item(down_orders[0])["lastError"]["S"]


@pytest.mark.parametrize("provider", ["http", "none"])
def test_a_create_whose_answer_was_lost_is_not_created_again_in_the_next_run(
    worker_bed: WorkerBed, provider: str
) -> None:
    """With a carrier the record's note tells the fulfillment as ours; without tracking info,
    the mark the fulfillment carries (then the record gets no note at all)."""
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, generate={"kind": "physical", "quantity": 2})
    # The create commits, its answer is lost a second later, and then the run has no time for
    # another round: the batch fails and the stream delivers it again.
    worker_bed.wix.client().set_faults({"bulkCreate": {"dropRate": 1.0, "latencyMs": 1000}})
    records = worker_bed.stream.read()
    [first] = worker_bed.deliver(
        worker_bed.load_worker(SHIPMENT_PROVIDER=provider),
        records,
        context=lambda: LambdaContext(seconds=MIN_SECONDS_FOR_A_ROUND + 0.5),
    )
    worker_bed.wix.client().clear_faults()
    failed = {item["itemIdentifier"] for item in first["batchItemFailures"]}
    noted = "fulfillmentIdsBeforeCreate" in worker_bed.item(order)
    [retry] = worker_bed.deliver(
        worker_bed.load_worker(SHIPMENT_PROVIDER=provider), retried_records(records, failed)
    )

    assert failed == {records[0]["dynamodb"]["SequenceNumber"]}
    assert retry == {"batchItemFailures": []}
    [fulfillment] = worker_bed.wix.client().order(order.order_id)["fulfillments"]
    assert worker_bed.fulfilled_units(order) == {FIRST_LINE_ITEM: 2}
    item = worker_bed.item(order)
    assert item["status"] == {"S": "FULFILLED"}
    assert item["fulfillmentIds"] == {"L": [{"S": fulfillment["id"]}]}
    assert "fulfillmentIdsBeforeCreate" not in item
    assert worker_bed.calls("bulkCreate") == 1
    assert noted == (provider == "http")


def test_our_own_tracking_number_refused_after_a_lost_create_ends_fulfilled_once(
    worker_bed: WorkerBed,
) -> None:
    """The create lands but its answer is lost; the next listing lags and does not show it, so
    the order is created again with the carrier's same label: Wix answers 409
    TRACKING_NUMBER_ALREADY_EXISTS. That refusal is our own earlier create, not a verdict: the
    listing after it shows the fulfillment, which is ours."""
    control = worker_bed.wix.client()
    site = control.create_site()
    [order] = worker_bed.place_orders(site, generate={"kind": "physical", "quantity": 3})
    control.set_faults(
        {
            "bulkCreate": {"dropRate": 1.0, "forSeconds": 1.0},
            "listByIds": {"staleRate": 1.0, "staleSeconds": 60.0, "forSeconds": 4.0},
        }
    )

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    [fulfillment] = control.order(order.order_id)["fulfillments"]
    assert worker_bed.fulfilled_units(order) == {FIRST_LINE_ITEM: 3}
    item = worker_bed.item(order)
    assert item["status"] == {"S": "FULFILLED"}
    assert item["fulfillmentIds"] == {"L": [{"S": fulfillment["id"]}]}
    stats = control.stats()
    assert stats["faultsInjected"]["listByIds"]["stale"] >= 2, "the second round's listing lagged"
    assert stats["calls"]["bulkCreate"] == {"dropped": 1, "200": 1}, "created twice"
    assert stats["fulfillmentsCreated"] == 1, "the second create was refused (409)"
    assert stats["carrierLabelsIssued"] == 1, "the same label both times"


def test_a_lost_answer_within_one_run_is_resolved_as_fulfilled(worker_bed: WorkerBed) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, generate={"kind": "physical"})
    worker_bed.wix.client().set_faults({"bulkCreate": {"dropRate": 1.0}})

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    [fulfillment] = worker_bed.wix.client().order(order.order_id)["fulfillments"]
    assert worker_bed.item(order)["fulfillmentIds"] == {"L": [{"S": fulfillment["id"]}]}
    assert worker_bed.status(order) == "FULFILLED"


def test_an_order_canceled_after_its_approval_gets_no_label_and_no_create(
    worker_bed: WorkerBed,
) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, generate={"kind": "physical"})
    worker_bed.wix.client().set_order_status(order.order_id, "CANCELED")

    answers = worker_bed.run_stream(worker_bed.load_worker(), max_invocations=3)

    assert answers == [{"batchItemFailures": []}]
    item = worker_bed.item(order)
    assert item["status"] == {"S": "CANCELED"}
    assert worker_bed.wix.client().stats()["carrierLabelsIssued"] == 0
    assert worker_bed.calls("bulkCreate") + worker_bed.calls("create") == 0
    assert worker_bed.wix.client().order(order.order_id)["fulfillments"] == []


def emitted(output: str) -> list[dict[str, Any]]:
    lines = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                lines.append(entry)
    return lines


def test_metrics_are_emf_and_log_lines_carry_the_order(
    worker_bed: WorkerBed, capsys: pytest.CaptureFixture[str]
) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, order=sample_flow_order())
    worker = worker_bed.load_worker()
    with function_log("wix-fulfillment") as lines:
        records = worker_bed.stream.read()
        worker_bed.wix.client().set_faults({"listByIds": {"throttleRate": 1.0}})
        [throttled] = worker_bed.deliver(worker, records, context=one_round)
        worker_bed.wix.client().clear_faults()
        failed = {item["itemIdentifier"] for item in throttled["batchItemFailures"]}
        worker_bed.deliver(worker, retried_records(records, failed))

    entries = emitted(capsys.readouterr().out) + emitted(lines.getvalue())
    metric_names = {
        metric["Name"]
        for entry in entries
        for directive in entry.get("_aws", {}).get("CloudWatchMetrics", [])
        for metric in directive["Metrics"]
    }
    assert {"FulfillmentsCreated", "WixCallLatency", "WixErrors"} <= metric_names
    assert any(entry.get("status") == "429" for entry in entries if "WixErrors" in entry)
    [settled] = [entry for entry in entries if entry.get("message") == "order fulfilled"]
    assert settled["order_id"] == order.order_id
    assert settled["instance_id"] == site
    assert "cold_start" in settled


def test_an_unset_app_secret_is_said_and_counted_and_the_orders_wait(
    worker_bed: WorkerBed, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the stack stores until the operator puts the real secret in: no Wix call is tried
    (it would read as Wix refusing our credentials), the orders stay PENDING for the retry."""
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(site, order=sample_flow_order())
    worker = worker_bed.load_worker(WIX_APP_SECRET=NOT_SET)
    with function_log("wix-fulfillment") as lines:
        records = worker_bed.stream.read()
        [answer] = worker_bed.deliver(worker, records, context=one_round)

    entries = emitted(capsys.readouterr().out) + emitted(lines.getvalue())
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]
    }
    item = worker_bed.item(order)
    assert item["status"] == {"S": "PENDING"}
    assert item["lastError"]["S"].startswith("the app secret has not been set")
    assert worker_bed.calls("token") == worker_bed.calls("listByIds") == 0
    assert any("AppSecretNotSet" in entry for entry in entries)
    [said] = [entry for entry in entries if entry.get("level") == "ERROR"]
    assert said["message"].startswith("the app secret has not been set")


def two_line_order(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The sample-flow order with two shippable lines, each changed as given."""
    order = sample_flow_order() | {"id": str(uuid.uuid4())}
    [line] = order["lineItems"]
    order["lineItems"] = [
        line | {"id": "00000000-0000-0000-0000-00000000000a"} | first,
        line | {"id": "00000000-0000-0000-0000-00000000000b"} | second,
    ]
    return order


def test_only_this_merchants_lines_and_never_refunded_units_are_shipped(
    worker_bed: WorkerBed,
) -> None:
    site = worker_bed.wix.client().create_site()
    [mixed, refunded] = worker_bed.place_orders(
        site, order=two_line_order({}, {"fulfillerId": "print-on-demand-app"})
    ) + worker_bed.place_orders(
        site, order=two_line_order({"quantity": 3, "refundQuantity": 1}, {"refundQuantity": 1})
    )

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    assert worker_bed.fulfilled_units(mixed) == {"00000000-0000-0000-0000-00000000000a": 1}
    assert worker_bed.fulfilled_units(refunded) == {"00000000-0000-0000-0000-00000000000a": 2}
    assert worker_bed.status(mixed) == worker_bed.status(refunded) == "FULFILLED"


def test_a_wholly_refunded_order_is_skipped_without_a_create(worker_bed: WorkerBed) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(
        site, order=two_line_order({"refundQuantity": 1}, {"refundQuantity": 1})
    )

    worker_bed.run_stream(worker_bed.load_worker())

    assert worker_bed.item(order)["statusReason"] == {"S": "refunded"}
    assert worker_bed.status(order) == "SKIPPED"
    assert worker_bed.calls("bulkCreate") == 0


@pytest.mark.parametrize(("setting", "status"), [("false", "SKIPPED"), ("true", "FULFILLED")])
def test_a_pickup_order_ships_only_when_the_merchant_says_so(
    worker_bed: WorkerBed, setting: str, status: str
) -> None:
    site = worker_bed.wix.client().create_site()
    pickup = sample_flow_order() | {
        "shippingInfo": {"logistics": {"pickupDetails": {"pickupMethod": "STORE_PICKUP"}}}
    }
    [order] = worker_bed.place_orders(site, order=pickup)

    worker_bed.run_stream(worker_bed.load_worker(FULFILL_PICKUP_ORDERS=setting))

    assert worker_bed.status(order) == status
    if status == "SKIPPED":
        assert worker_bed.item(order)["statusReason"] == {"S": "a pickup order: nothing to ship"}
        assert worker_bed.calls("bulkCreate") == 0


def test_refunds_made_after_the_approval_are_never_shipped(worker_bed: WorkerBed) -> None:
    site = worker_bed.wix.client().create_site()
    [partly, wholly] = worker_bed.place_orders(
        site, order=two_line_order({"quantity": 3}, {})
    ) + worker_bed.place_orders(site, order=two_line_order({}, {}))
    control = worker_bed.wix.client()
    control.change_order(partly.order_id, refunds={"00000000-0000-0000-0000-00000000000a": 1})
    control.change_order(
        wholly.order_id,
        refunds={
            "00000000-0000-0000-0000-00000000000a": 1,
            "00000000-0000-0000-0000-00000000000b": 1,
        },
    )

    worker_bed.run_stream(worker_bed.load_worker())

    assert worker_bed.fulfilled_units(partly) == {
        "00000000-0000-0000-0000-00000000000a": 2,
        "00000000-0000-0000-0000-00000000000b": 1,
    }
    assert worker_bed.status(wholly) == "SKIPPED"
    assert worker_bed.item(wholly)["statusReason"] == {"S": "refunded"}
    assert worker_bed.fulfilled_units(wholly) == {}


def payment_webhook(keys: KeyPair, site: str, order_id: str) -> dict[str, Any]:
    envelope = seed_order_envelope()
    envelope["entityId"] = order_id
    envelope["id"] = str(uuid.uuid4())
    envelope["actionEvent"]["body"]["order"] |= {"id": order_id, "paymentStatus": "PAID"}
    token = signed_webhook(
        keys, envelope, instance_id=site, event_type="wix.ecom.v1.order_payment_status_updated"
    )
    return webhook_event(token)


def test_under_fulfill_when_paid_an_unpaid_order_waits_for_wixs_payment_event(
    worker_bed: WorkerBed, load_webhook_handler: Callable[..., Handler], webhook_keys: KeyPair
) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(
        site, order=sample_flow_order() | {"paymentStatus": "NOT_PAID"}
    )
    worker = worker_bed.load_worker(FULFILL_WHEN="paid")

    assert worker_bed.run_stream(worker) == [{"batchItemFailures": []}]
    assert worker_bed.status(order) == "AWAITING_PAYMENT"
    assert worker_bed.calls("bulkCreate") == 0
    assert worker_bed.wix.client().stats()["carrierLabelsIssued"] == 0

    worker_bed.wix.client().change_order(order.order_id, payment_status="PAID")
    webhook = load_webhook_handler()
    for _ in range(2):  # Wix delivers it twice
        assert answer(webhook(payment_webhook(webhook_keys, site, order.order_id), None))[0] == 200
    answers = worker_bed.run_stream(worker)

    assert answers == [{"batchItemFailures": []}]
    assert worker_bed.status(order) == "FULFILLED"
    assert worker_bed.calls("bulkCreate") == 1
    assert sum(worker_bed.fulfilled_units(order).values()) == sum(
        line.quantity for line in order.line_items if line.shippable
    )


def test_under_fulfill_when_approved_an_unpaid_order_ships_at_once(worker_bed: WorkerBed) -> None:
    site = worker_bed.wix.client().create_site()
    [order] = worker_bed.place_orders(
        site, order=sample_flow_order() | {"paymentStatus": "NOT_PAID"}
    )

    worker_bed.run_stream(worker_bed.load_worker())

    assert worker_bed.status(order) == "FULFILLED"
