"""ReconcileFunction against DynamoDB Local and the Wix sandbox over HTTP: orders whose webhook
never came are taken in once, through the webhook's own write; the watermark, the start date, a
removed site and the stale-PENDING redrive; the backfill command's dry run and apply."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from infra.commands import reconcile as reconcile_command
from infra.local_stack.dynamodb_local import DynamoDBLocal
from infra.local_stack.event_filter import matches_any
from infra.local_stack.wiring import read_wiring
from tests.support.lambda_functions import ColdStart, Handler
from tests.support.worker_bed import LambdaContext, WorkerBed
from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport
from wix_fulfillment.adapters.intake_store import SiteWrites
from wix_fulfillment.adapters.order_item import order_key, timestamp
from wix_fulfillment.adapters.order_outcomes import OrderOutcomesTable
from wix_fulfillment.adapters.site_item import site_key
from wix_fulfillment.adapters.site_registry import SiteRegistry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

RECONCILE_MODULES = ("wix_fulfillment.handlers.reconcile",)


@pytest.fixture
def load_sweep(worker_bed: WorkerBed, cold_start: ColdStart) -> Callable[..., Handler]:
    def load(**environment: str) -> Handler:
        defaults = {
            "TABLE_NAME": worker_bed.table,
            "WIX_APP_ID": worker_bed.wix.app_id,
            "WIX_APP_SECRET": worker_bed.wix.app_secret,
            "WIX_API_BASE_URL": worker_bed.wix.base_url,
        }
        return cold_start(RECONCILE_MODULES, defaults | environment)

    return load


def new_site(bed: WorkerBed, start: datetime | None = None) -> str:
    """A site at the sandbox, registered as its first webhook registers it."""
    instance_id = bed.wix.client().create_site()
    SiteWrites(Boto3Transport(bed.dynamodb), bed.table).register(
        instance_id, start or datetime.now(UTC) - timedelta(minutes=1)
    )
    return instance_id


def lost_orders(bed: WorkerBed, instance_id: str, count: int) -> list[str]:
    created = bed.wix.client().create_orders(
        instance_id, generate={"count": count}, deliver_webhook=False
    )
    return [order["id"] for order in created["orders"]]


def items(dynamodb: DynamoDBClient, table: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        found.update({item["pk"]["S"]: item for item in page["Items"]})
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_orders_without_webhooks_are_taken_in_once_and_delivered_ones_left_alone(
    worker_bed: WorkerBed, load_sweep: Callable[..., Handler], template: dict[str, Any]
) -> None:
    site = new_site(worker_bed)
    delivered = worker_bed.place_orders(site, generate={"count": 40})
    lost = lost_orders(worker_bed, site, 110)
    worker_bed.stream.read()
    before = {o.order_id: worker_bed.item(o) for o in delivered}
    searches = worker_bed.calls("searchOrders")

    answer = load_sweep()({}, LambdaContext())

    assert answer["ordersRecovered"] == 110
    assert answer["sitesSwept"] == 1
    assert worker_bed.calls("searchOrders") - searches == 2
    stored = items(worker_bed.dynamodb, worker_bed.table)
    for order_id in lost:
        item = stored[order_key(site, order_id)]
        assert item["status"]["S"] == "PENDING"
        assert item["eventId"]["S"].startswith("sweep:")
    assert {o.order_id: worker_bed.item(o) for o in delivered} == before
    mapping = read_wiring(template).stream_mappings[0]
    inserts = [r for r in worker_bed.stream.read() if matches_any(mapping.filter_patterns, r)]
    assert sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in inserts) == sorted(
        order_key(site, order_id) for order_id in lost
    ), "the stream carries each recovered order to the worker once"

    again = load_sweep()({}, LambdaContext())
    assert again["ordersRecovered"] == 0


def test_a_sweep_out_of_budget_or_time_resumes_from_its_watermark(
    worker_bed: WorkerBed, load_sweep: Callable[..., Handler]
) -> None:
    site = new_site(worker_bed)
    lost = lost_orders(worker_bed, site, 250)
    registry = SiteRegistry(worker_bed.dynamodb, worker_bed.table)

    no_time = load_sweep()({}, LambdaContext(seconds=15))
    assert no_time["sitesLeft"] == 1
    assert registry.site(site).watermark is None  # type: ignore[union-attr]

    sweep = load_sweep(RECONCILE_CALLS_PER_SITE="1")
    recovered = [sweep({}, LambdaContext())["ordersRecovered"] for _ in range(4)]

    assert recovered[0] == 100
    assert recovered[1] > 0, "the next sweep goes on from where the first stopped"
    assert sum(recovered) == 250
    stored = items(worker_bed.dynamodb, worker_bed.table)
    assert all(order_key(site, order_id) in stored for order_id in lost)


def test_old_orders_and_removed_sites_are_never_taken_in_nor_called(
    worker_bed: WorkerBed, load_sweep: Callable[..., Handler]
) -> None:
    old_site = worker_bed.wix.client().create_site()
    old = lost_orders(worker_bed, old_site, 5)
    SiteWrites(Boto3Transport(worker_bed.dynamodb), worker_bed.table).register(
        old_site, datetime.now(UTC) + timedelta(seconds=1)
    )
    removed = new_site(worker_bed)
    lost_orders(worker_bed, removed, 5)
    assert SiteWrites(Boto3Transport(worker_bed.dynamodb), worker_bed.table).removed(removed)
    worker_bed.wix.client().remove_site(removed, deliver_webhook=False)
    stats = worker_bed.wix.client().stats()

    answer = load_sweep()({}, LambdaContext())

    assert answer["sitesSwept"] == 1
    assert answer["ordersRecovered"] == 0
    stored = items(worker_bed.dynamodb, worker_bed.table)
    assert not any(order_key(old_site, order_id) in stored for order_id in old)
    assert not any(key.startswith(f"ORDER#{removed}") for key in stored)
    calls_after = worker_bed.wix.client().stats()["callsByInstance"]
    assert calls_after.get(removed) == stats["callsByInstance"].get(removed), "never called"
    assert stored[site_key(removed)]["status"]["S"] == "REMOVED"


def test_a_removed_site_installed_again_starts_anew(worker_bed: WorkerBed) -> None:
    writes = SiteWrites(Boto3Transport(worker_bed.dynamodb), worker_bed.table)
    registry = SiteRegistry(worker_bed.dynamodb, worker_bed.table)
    instance_id = str(uuid.uuid4())
    first = datetime(2025, 1, 1, tzinfo=UTC)

    assert writes.installed(instance_id, first)
    assert not writes.register(instance_id), "a known site is registered once"
    assert writes.removed(instance_id)
    assert writes.installed(instance_id, first + timedelta(days=30))

    site = registry.site(instance_id)
    assert site is not None
    assert site.status == "ACTIVE"
    assert site.start_date == first + timedelta(days=30)


def test_a_waiting_order_whose_payment_webhook_is_lost_is_fulfilled_after_a_sweep(
    worker_bed: WorkerBed, load_sweep: Callable[..., Handler]
) -> None:
    site = new_site(worker_bed)
    unpaid = {"count": 1, "paymentStatus": "NOT_PAID"}
    [waiting] = worker_bed.place_orders(site, generate=unpaid)
    worker = worker_bed.load_worker(FULFILL_WHEN="paid")
    worker_bed.run_stream(worker)
    assert worker_bed.status(waiting) == "AWAITING_PAYMENT"
    [in_flight] = worker_bed.place_orders(site, generate={"count": 1})
    [looked_at_unpaid] = worker_bed.place_orders(site, generate=unpaid)
    worker_looked = time.time()
    before = worker_bed.item(in_flight)
    for order in (waiting, looked_at_unpaid):
        worker_bed.wix.client().set_payment_status(order.order_id, "PAID", deliver_webhook=False)

    answer = load_sweep()({}, LambdaContext())

    assert answer["paymentsApplied"] == 2
    assert answer["ordersRecovered"] == 0
    assert worker_bed.item(in_flight) == before, "a pending order stored paid is left alone"
    outcomes = OrderOutcomesTable(Boto3Transport(worker_bed.dynamodb), worker_bed.table)
    assert not outcomes.record_awaiting_payment(looked_at_unpaid, worker_looked), (
        "a worker that read Wix before the payment does not park the order"
    )
    worker_bed.run_stream(worker)
    assert worker_bed.status(waiting) == "FULFILLED"
    assert worker_bed.fulfilled_units(waiting) == {
        line.id: line.quantity for line in waiting.line_items if line.shippable
    }
    assert load_sweep()({}, LambdaContext())["paymentsApplied"] == 0, "each payment applied once"


def test_a_stale_pending_order_is_redriven_a_bounded_number_of_times(
    worker_bed: WorkerBed, load_sweep: Callable[..., Handler], template: dict[str, Any]
) -> None:
    site = new_site(worker_bed)
    [order] = worker_bed.place_orders(site, generate={"count": 1})
    mapping = read_wiring(template).stream_mappings[0]
    key = order_key(site, order.order_id)

    def age_it(error: str) -> None:
        worker_bed.dynamodb.update_item(
            TableName=worker_bed.table,
            Key={"pk": {"S": key}},
            UpdateExpression="SET updatedAt = :old, lastError = :error REMOVE redriveRequestedAt",
            ExpressionAttributeValues={
                ":old": {"S": timestamp(datetime.now(UTC) - timedelta(hours=2))},
                ":error": {"S": error},
            },
        )

    sweep = load_sweep(MAX_AUTO_REDRIVES="2")
    redriven = []
    for attempt in range(3):
        age_it(f"Wix down ({attempt})")
        worker_bed.stream.read()
        answer = sweep({}, LambdaContext())
        redriven.append(answer["ordersRedriven"])
        if answer["ordersRedriven"]:
            [record] = [
                r for r in worker_bed.stream.read() if matches_any(mapping.filter_patterns, r)
            ]
            assert record["dynamodb"]["Keys"]["pk"]["S"] == key

    assert redriven == [1, 1, 0]
    item = worker_bed.item(order)
    assert item["autoRedrives"]["N"] == "2"
    assert item["lastError"]["S"] == "Wix down (2)", "the reason is kept"
    assert item["status"]["S"] == "PENDING"


def test_the_backfill_dry_run_lists_exactly_what_apply_takes_in(
    worker_bed: WorkerBed,
    dynamodb_local: DynamoDBLocal,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = new_site(worker_bed)
    delivered = worker_bed.place_orders(site, generate={"count": 3})
    lost = lost_orders(worker_bed, site, 7)
    options = [
        "--instance-id", site,
        "--since", (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "--table", worker_bed.table,
        "--endpoint-url", dynamodb_local.endpoint_url,
        "--app-id", worker_bed.wix.app_id,
        "--app-secret", worker_bed.wix.app_secret,
        "--base-url", worker_bed.wix.base_url,
    ]  # fmt: skip

    assert reconcile_command.main(options) == 0
    dry = capsys.readouterr()
    listed = {line.split(": ")[1] for line in dry.out.splitlines()}
    assert listed == set(lost)
    assert "3 already stored" in dry.err
    assert "page 1" in dry.err
    assert not any(
        order_key(site, order_id) in items(worker_bed.dynamodb, worker_bed.table)
        for order_id in lost
    ), "a dry run writes nothing"

    assert reconcile_command.main([*options, "--apply"]) == 0
    applied = {line.split(": ")[1] for line in capsys.readouterr().out.splitlines()}
    assert applied == listed
    stored = items(worker_bed.dynamodb, worker_bed.table)
    assert all(order_key(site, order_id) in stored for order_id in lost)
    assert all(worker_bed.status(order) == "PENDING" for order in delivered)
