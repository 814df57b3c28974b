"""FulfillmentFunction and a site the app was removed from, against DynamoDB Local's stream and
the Wix sandbox over HTTP: its pending orders end SKIPPED with the reason, Wix never called for
them, instead of retrying a token that can never come."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.worker_bed import LambdaContext, WorkerBed
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import SiteWrites
from wix_fulfillment.core.fulfillment_run import MIN_SECONDS_FOR_A_ROUND
from wix_fulfillment.core.removed_sites import APP_REMOVED_REASON

pytestmark = pytest.mark.integration


def registered_site(bed: WorkerBed) -> str:
    instance_id = bed.wix.client().create_site()
    SiteWrites(Boto3Transport(bed.dynamodb), bed.table).register(
        instance_id, datetime.now(UTC) - timedelta(minutes=1)
    )
    return instance_id


def remove(bed: WorkerBed, instance_id: str, *, recorded: bool = True) -> None:
    """Uninstalled at Wix (its tokens refused from now on); ``recorded``: and its App Instance
    Removed webhook applied to the registry."""
    bed.wix.client().remove_site(instance_id, deliver_webhook=False)
    if recorded:
        assert SiteWrites(Boto3Transport(bed.dynamodb), bed.table).removed(instance_id)


def calls_for(bed: WorkerBed, instance_id: str) -> int:
    calls: int = bed.wix.client().stats()["callsByInstance"].get(instance_id, 0)
    return calls


def test_a_removed_sites_orders_are_skipped_with_the_reason_and_wix_never_called(
    worker_bed: WorkerBed,
) -> None:
    removed, active = registered_site(worker_bed), registered_site(worker_bed)
    gone = worker_bed.place_orders(removed, generate={"kind": "physical", "count": 3})
    kept = worker_bed.place_orders(active, generate={"kind": "physical", "count": 2})
    remove(worker_bed, removed)
    calls_before = calls_for(worker_bed, removed)

    [answer] = worker_bed.run_stream(worker_bed.load_worker())

    assert answer == {"batchItemFailures": []}
    for order in gone:
        item = worker_bed.item(order)
        assert item["status"] == {"S": "SKIPPED"}
        assert item["statusReason"] == {"S": APP_REMOVED_REASON}
    assert calls_for(worker_bed, removed) == calls_before, "never called"
    assert Counter(worker_bed.status(order) for order in kept) == {"FULFILLED": 2}


def test_a_removal_recorded_after_a_refused_token_settles_the_orders_on_the_streams_retry(
    worker_bed: WorkerBed,
) -> None:
    site = registered_site(worker_bed)
    orders = worker_bed.place_orders(site, generate={"kind": "physical", "count": 2})
    remove(worker_bed, site, recorded=False)  # App Instance Removed not here yet
    records = worker_bed.stream_batch()
    worker = worker_bed.load_worker()

    [refused] = worker_bed.deliver(
        worker, records, context=lambda: LambdaContext(seconds=MIN_SECONDS_FOR_A_ROUND + 1)
    )
    assert len(refused["batchItemFailures"]) == 2
    assert {worker_bed.status(order) for order in orders} == {"PENDING"}
    assert "no access token" in worker_bed.item(orders[0])["lastError"]["S"]

    assert SiteWrites(Boto3Transport(worker_bed.dynamodb), worker_bed.table).removed(site)
    calls_before = calls_for(worker_bed, site)
    [retried] = worker_bed.deliver(worker, records)

    assert retried == {"batchItemFailures": []}
    assert {worker_bed.item(order)["statusReason"]["S"] for order in orders} == {APP_REMOVED_REASON}
    assert calls_for(worker_bed, site) == calls_before


def test_the_site_items_writes_never_pass_the_stream_filter(worker_bed: WorkerBed) -> None:
    writes = SiteWrites(Boto3Transport(worker_bed.dynamodb), worker_bed.table)
    site = worker_bed.wix.client().create_site()
    worker_bed.stream.read()

    assert writes.register(site)
    assert writes.removed(site)
    assert writes.installed(site)
    records = worker_bed.stream.read()

    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "MODIFY"]
    assert not any(worker_bed.delivered(record) for record in records)
