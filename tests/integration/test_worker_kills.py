"""The worker killed between a create and its record: the fulfillment's process SIGKILLed while
Wix has committed the create and holds the answer, then the same stream records again. With a
carrier the record's note before the create tells ours; without one, our mark on the fulfillment."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.dynamodb_stream import lambda_stream_event
from infra.local_stack.functions import FunctionError, FunctionPool
from infra.local_stack.wiring import read_wiring
from tests.support.sandbox import access_token
from tests.support.wix_http import WixHttp, fedex, line
from tests.support.worker_bed import WorkerBed
from wix_fulfillment.adapters.order_item import BEFORE_CREATE

pytestmark = pytest.mark.integration

# Long enough to find the committed create and kill the worker while it waits for the answer.
LATE_ANSWER_SECONDS = 20.0


@pytest.fixture(params=["http", "none"])
def worker_process(
    request: pytest.FixtureRequest,
    worker_bed: WorkerBed,
    dynamodb_local: DynamoDBLocal,
    template: dict[str, Any],
) -> Iterator[FunctionPool]:
    """FulfillmentFunction in its own process, as the local stack runs it, with the sandbox's
    carrier (``http``) or without tracking info (``none``)."""
    spec = read_wiring(template).functions["FulfillmentFunction"]
    wix = worker_bed.wix
    environment = {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "TABLE_NAME": worker_bed.table,
        "WIX_APP_ID": wix.app_id,
        "WIX_APP_SECRET": wix.app_secret,
        "WIX_API_BASE_URL": wix.base_url,
        "SHIPMENT_PROVIDER": request.param,
        "SHIPMENT_PROVIDER_URL": f"{wix.base_url}/_sandbox/carrier/labels",
    }
    with FunctionPool(spec, environment, lambda _function, text: print(text)) as pool:
        yield pool


def test_a_worker_killed_between_create_and_record_ends_fulfilled_and_another_skipped(
    worker_bed: WorkerBed, worker_process: FunctionPool
) -> None:
    control = worker_bed.wix.client()
    site = control.create_site()
    [ours, theirs] = worker_bed.place_orders(site, generate={"quantity": 2, "count": 2})
    wix = WixHttp(worker_bed.wix.base_url)
    shipment = {"lineItems": [line(1, 2)], "trackingInfo": fedex()}
    assert (
        wix.create(access_token(wix, worker_bed.wix, site), theirs.order_id, shipment).status == 200
    )
    [their_fulfillment] = control.order(theirs.order_id)["fulfillments"]
    control.set_faults({"bulkCreate": {"lateRate": 1.0, "lateSeconds": LATE_ANSWER_SECONDS}})
    event = lambda_stream_event(worker_bed.stream.read())
    failures: list[BaseException] = []

    def first_run() -> None:
        try:
            worker_process.invoke(event)
        except FunctionError as error:
            failures.append(error)

    invocation = threading.Thread(target=first_run)
    invocation.start()
    deadline = time.monotonic() + LATE_ANSWER_SECONDS / 2
    while not control.order(ours.order_id)["fulfillments"]:
        assert time.monotonic() < deadline, "the worker's create did not reach Wix"
        time.sleep(0.05)
    assert worker_process.kill_busy() == 1
    invocation.join(timeout=10)
    assert "exited" in str(failures[0])
    [created] = control.order(ours.order_id)["fulfillments"]
    killed_record = worker_bed.item(ours)
    assert killed_record["status"] == {"S": "PENDING"}
    if "trackingInfo" in created:
        assert killed_record[BEFORE_CREATE] == {"L": []}, "killed after the note, before the record"
    else:
        assert BEFORE_CREATE not in killed_record, "a marked create needs no note"

    answer = worker_process.invoke(event)

    assert answer == {"batchItemFailures": []}
    assert [f["id"] for f in control.order(ours.order_id)["fulfillments"]] == [created["id"]]
    record = worker_bed.item(ours)
    assert record["status"] == {"S": "FULFILLED"}
    assert record["fulfillmentIds"] == {"L": [{"S": created["id"]}]}
    assert BEFORE_CREATE not in record
    assert worker_bed.fulfilled_units(ours) == {line(1, 2)["id"]: 2}
    faults = control.stats()["faultsInjected"]["bulkCreate"]
    assert faults == {"late": 1}, "the second run sent no create"
    skipped = worker_bed.item(theirs)
    assert skipped["status"] == {"S": "SKIPPED"}
    assert skipped["fulfillmentIds"] == {"L": [{"S": their_fulfillment["id"]}]}
    assert control.order(theirs.order_id)["fulfillments"] == [their_fulfillment]
