"""WebhookFunction and the site registry, against DynamoDB Local: a site is registered at its
first webhook with one write per execution environment, and Wix's App Instance Installed and
Removed webhooks come through the same route and verifier."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.lambda_functions import Handler
from tests.support.webhooks import (
    INSTANCE_ID,
    KeyPair,
    answer,
    order_items,
    seed_order_envelope,
    signed_webhook,
    site_items,
    webhook_event,
)
from wix_fulfillment.adapters.dynamodb_lite import DynamoDBError
from wix_fulfillment.adapters.intake_store import DynamoDBTransport, IntakeStore, SiteWrites

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

OTHER_SITE = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
APP_INSTANCE_MODULE = "wix_fulfillment.core.app_instance"


class CountingTransport:
    """The webhook's own transport, every request passed on to DynamoDB Local and written down
    as "<operation> <item kind>"; ``fail_next_site_write`` makes the next site write fail as a
    DynamoDB outage would."""

    def __init__(self, inner: DynamoDBTransport) -> None:
        self.inner = inner
        self.requests: list[str] = []
        self.fail_next_site_write = False

    def put_item(self, table_name: str, item: Mapping[str, Any], condition_expression: str) -> None:
        self._note("PutItem", item["pk"]["S"])
        self.inner.put_item(table_name, item, condition_expression)

    def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        self._note(operation, request["Key"]["pk"]["S"])
        return self.inner.call(operation, request)

    def _note(self, operation: str, key: str) -> None:
        kind = key.partition("#")[0]
        self.requests.append(f"{operation} {kind}")
        if kind == "SITE" and self.fail_next_site_write:
            self.fail_next_site_write = False
            raise DynamoDBError("InternalServerError", retryable=True)


@pytest.fixture
def counted(
    webhook_handler: Handler, monkeypatch: pytest.MonkeyPatch, orders_table: str
) -> CountingTransport:
    """The loaded webhook's parts rebuilt over a counting transport (same table, same rules)."""
    import wix_fulfillment.handlers.webhook as webhook_module

    parts = webhook_module.parts
    counting = CountingTransport(parts.orders.transport)
    monkeypatch.setattr(
        webhook_module,
        "parts",
        dataclasses.replace(
            parts,
            orders=IntakeStore(counting, orders_table, timedelta(days=90)),
            sites=SiteWrites(counting, orders_table),
        ),
    )
    return counting


def new_order(keys: KeyPair, instance_id: str = INSTANCE_ID) -> dict[str, Any]:
    envelope = seed_order_envelope()
    order_id = str(uuid.uuid4())
    envelope["id"] = str(uuid.uuid4())
    envelope["entityId"] = order_id
    envelope["actionEvent"]["body"]["order"]["id"] = order_id
    return webhook_event(signed_webhook(keys, envelope, instance_id=instance_id))


def app_event(keys: KeyPair, event_type: str, instance_id: str = INSTANCE_ID) -> dict[str, Any]:
    """App Instance Installed or Removed as Wix signs it (``appId`` the event's own data)."""
    return webhook_event(
        signed_webhook(
            keys,
            {"appId": "11111111-2222-4333-8444-555555555555"},
            instance_id=instance_id,
            event_type=event_type,
            pretty=True,
        )
    )


def test_a_site_is_registered_at_its_first_webhook_and_costs_one_write_per_environment(
    webhook_handler: Handler,
    counted: CountingTransport,
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
) -> None:
    before = datetime.now(UTC)

    answers = [webhook_handler(new_order(webhook_keys), None) for _ in range(20)]
    answers += [webhook_handler(new_order(webhook_keys, OTHER_SITE), None) for _ in range(10)]

    assert [answer(response) for response in answers] == [(200, {"status": "accepted"})] * 30
    assert Counter(counted.requests) == {"PutItem ORDER": 30, "PutItem SITE": 2}
    sites = site_items(dynamodb, orders_table)
    assert sites.keys() == {INSTANCE_ID, OTHER_SITE}
    for site in sites.values():
        assert site["status"] == {"S": "ACTIVE"}
        start = datetime.fromisoformat(site["startDate"]["S"])
        assert before - timedelta(seconds=1) <= start <= datetime.now(UTC)
    assert len(order_items(dynamodb, orders_table)) == 30


def test_another_execution_environment_leaves_the_registered_site_as_it_was(
    load_webhook_handler: Callable[..., Handler],
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
) -> None:
    load_webhook_handler()(new_order(webhook_keys), None)
    registered = site_items(dynamodb, orders_table)[INSTANCE_ID]

    answered = load_webhook_handler()(new_order(webhook_keys), None)

    assert answer(answered) == (200, {"status": "accepted"})
    assert site_items(dynamodb, orders_table)[INSTANCE_ID] == registered


def test_a_site_not_registered_is_answered_503_and_wixs_retry_registers_it(
    webhook_handler: Handler,
    counted: CountingTransport,
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
) -> None:
    delivery = new_order(webhook_keys)
    counted.fail_next_site_write = True

    first = webhook_handler(delivery, None)
    retry = webhook_handler(delivery, None)

    assert answer(first) == (503, {"error": "order could not be stored, retry later"})
    assert answer(retry) == (200, {"status": "duplicate"})
    assert site_items(dynamodb, orders_table)[INSTANCE_ID]["status"] == {"S": "ACTIVE"}
    assert len(order_items(dynamodb, orders_table)) == 1


def test_app_instance_installed_and_removed_are_applied_to_the_site(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    def deliver(event_type: str) -> tuple[int, dict[str, Any]]:
        return answer(webhook_handler(app_event(webhook_keys, event_type), None))

    assert deliver("AppInstalled") == (200, {"status": "applied"})
    installed = site_items(dynamodb, orders_table)[INSTANCE_ID]
    assert deliver("AppInstalled") == (200, {"status": "unchanged"})
    assert site_items(dynamodb, orders_table)[INSTANCE_ID] == installed

    assert deliver("AppRemoved") == (200, {"status": "applied"})
    assert deliver("AppRemoved") == (200, {"status": "unchanged"})
    # A late order webhook of the removed site is stored (the worker settles it) but does not
    # bring the site back.
    assert answer(webhook_handler(new_order(webhook_keys), None)) == (200, {"status": "accepted"})
    removed = site_items(dynamodb, orders_table)[INSTANCE_ID]
    assert removed["status"] == {"S": "REMOVED"}
    assert removed["registeredAt"] == installed["registeredAt"]

    assert deliver("AppInstalled") == (200, {"status": "applied"})
    again = site_items(dynamodb, orders_table)[INSTANCE_ID]
    assert again["status"] == {"S": "ACTIVE"}
    assert again["startDate"]["S"] > installed["startDate"]["S"], "starts anew"
    assert order_items(dynamodb, orders_table)[0]["status"] == {"S": "PENDING"}


def test_a_removal_of_a_site_never_seen_is_recorded(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    response = webhook_handler(app_event(webhook_keys, "AppRemoved", OTHER_SITE), None)

    assert answer(response) == (200, {"status": "applied"})
    assert site_items(dynamodb, orders_table)[OTHER_SITE]["status"] == {"S": "REMOVED"}


def test_an_app_instance_event_signed_with_another_key_is_refused_and_changes_nothing(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    other_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
) -> None:
    webhook_handler(app_event(webhook_keys, "AppInstalled"), None)
    before = site_items(dynamodb, orders_table)

    response = webhook_handler(app_event(other_keys, "AppRemoved"), None)

    assert answer(response)[0] == 401
    assert site_items(dynamodb, orders_table) == before


def test_an_app_instance_event_without_a_site_id_is_malformed(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    response = webhook_handler(app_event(webhook_keys, "AppRemoved", "not-a-guid"), None)

    assert answer(response)[0] == 400
    assert site_items(dynamodb, orders_table) == {}


SERVE_PROBE = """
import json, sys
from wix_fulfillment.handlers.webhook import handler
answers = [handler(event, None)["statusCode"] for event in json.loads(sys.stdin.read())]
print(json.dumps({"answers": answers, "modules": sorted(sys.modules)}))
"""
"""A fresh process, as a new execution environment: serves the events given on stdin, prints
the answers and every module loaded by then."""


def serve_in_a_new_process(
    events: list[dict[str, Any]], orders_table: str, webhook_keys: KeyPair
) -> dict[str, Any]:
    environment = os.environ | {
        "TABLE_NAME": orders_table,
        "WIX_WEBHOOK_PUBLIC_KEY": webhook_keys.public_pem,
    }
    completed = subprocess.run(
        [sys.executable, "-c", SERVE_PROBE],
        input=json.dumps(events),
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=True,
    )
    served: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return served


def test_the_cold_start_loads_neither_boto3_nor_the_app_instance_parser_for_orders(
    aws_local_env: None, webhook_keys: KeyPair, orders_table: str
) -> None:
    orders_only = serve_in_a_new_process(
        [new_order(webhook_keys), new_order(webhook_keys)], orders_table, webhook_keys
    )
    with_an_install = serve_in_a_new_process(
        [app_event(webhook_keys, "AppInstalled", OTHER_SITE)], orders_table, webhook_keys
    )

    assert orders_only["answers"] == [200, 200]
    assert "boto3" not in orders_only["modules"]
    assert APP_INSTANCE_MODULE not in orders_only["modules"]
    assert with_an_install["answers"] == [200]
    assert APP_INSTANCE_MODULE in with_an_install["modules"]
