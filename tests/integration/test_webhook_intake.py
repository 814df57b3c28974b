"""WebhookFunction against DynamoDB Local: what Wix sees, and what the table holds afterwards."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from infra.samples.webhook_signing import wix_json
from tests.support.lambda_functions import Handler
from tests.support.webhooks import (
    INSTANCE_ID,
    SEED_EVENT_ID,
    SEED_ORDER_ID,
    KeyPair,
    all_items,
    answer,
    b64url,
    order_items,
    order_of,
    seed_order_envelope,
    sign_claims,
    signed_webhook,
    unsigned_parts,
    valid_claims,
    webhook_event,
    with_envelope_change,
)
from wix_fulfillment.bootstrap import webhook_parts

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain-body", "base64-body"])
def test_seed_order_is_stored_as_its_compact_projection(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    base64_encoded: bool,
) -> None:
    before = datetime.now(UTC)
    event = webhook_event(signed_webhook(webhook_keys), base64_encoded=base64_encoded)

    assert answer(webhook_handler(event, None)) == (200, {"status": "accepted"})

    [item] = order_items(dynamodb, orders_table)
    received_at = datetime.fromisoformat(item["receivedAt"]["S"])
    assert before - timedelta(seconds=1) <= received_at <= datetime.now(UTC)
    assert item == {
        "pk": {"S": f"ORDER#{INSTANCE_ID}#{SEED_ORDER_ID}"},
        "instanceId": {"S": INSTANCE_ID},
        "orderId": {"S": SEED_ORDER_ID},
        "eventId": {"S": SEED_EVENT_ID},
        "orderNumber": {"S": "10002"},
        "eventTime": {"S": "2024-01-28T14:16:58.826960306Z"},
        "lineItems": {
            "L": [
                {
                    "M": {
                        "id": {"S": "00000000-0000-0000-0000-000000000001"},
                        "quantity": {"N": "1"},
                        "shippable": {"BOOL": False},
                        "itemType": {"S": "DIGITAL"},
                    }
                }
            ]
        },
        "paymentStatus": {"S": "PAID"},
        "status": {"S": "PENDING"},
        "attempts": {"N": "0"},
        "receivedAt": item["receivedAt"],
        "updatedAt": item["receivedAt"],
        "expiresAt": {"N": str(int((received_at + timedelta(days=90)).timestamp()))},
    }


def test_no_buyer_data_reaches_the_table(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    webhook_handler(webhook_event(signed_webhook(webhook_keys)), None)

    stored = json.dumps(all_items(dynamodb, orders_table))
    for buyer_detail in ("janedoe@example.com", "Jane", "Doe", "0555555555", "525 5th Avenue"):
        assert buyer_detail not in stored


def test_repeated_deliveries_store_the_order_once(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    event = webhook_event(signed_webhook(webhook_keys))

    answers = [answer(webhook_handler(event, None)) for _ in range(5)]

    assert answers == [(200, {"status": "accepted"})] + [(200, {"status": "duplicate"})] * 4
    assert len(order_items(dynamodb, orders_table)) == 1


def test_concurrent_deliveries_store_the_order_once(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    event = webhook_event(signed_webhook(webhook_keys))

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: answer(webhook_handler(event, None)), range(20)))

    assert sorted(body["status"] for _, body in answers) == ["accepted"] + ["duplicate"] * 19
    assert {status for status, _ in answers} == {200}
    assert len(order_items(dynamodb, orders_table)) == 1


def test_another_event_for_the_same_order_changes_nothing(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    webhook_handler(webhook_event(signed_webhook(webhook_keys)), None)
    [first] = order_items(dynamodb, orders_table)
    envelope = seed_order_envelope()
    envelope["id"] = "7f4c1d2e-3b5a-4c6d-8e9f-0a1b2c3d4e5f"
    envelope["actionEvent"]["body"]["order"]["lineItems"][0]["quantity"] = 3

    response = webhook_handler(webhook_event(signed_webhook(webhook_keys, envelope)), None)

    assert answer(response) == (200, {"status": "duplicate"})
    assert order_items(dynamodb, orders_table) == [first]


def test_the_same_order_on_another_site_is_another_order(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    other_site = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    webhook_handler(webhook_event(signed_webhook(webhook_keys)), None)

    response = webhook_handler(
        webhook_event(signed_webhook(webhook_keys, instance_id=other_site)), None
    )

    assert answer(response) == (200, {"status": "accepted"})
    assert sorted(
        item["instanceId"]["S"] for item in order_items(dynamodb, orders_table)
    ) == sorted([INSTANCE_ID, other_site])


def test_an_anonymize_request_is_acknowledged_and_not_stored(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    envelope = seed_order_envelope()
    envelope["triggeredByAnonymizeRequest"] = True

    response = webhook_handler(webhook_event(signed_webhook(webhook_keys, envelope)), None)

    assert answer(response) == (200, {"status": "ignored"})
    assert all_items(dynamodb, orders_table) == []


def test_other_event_types_are_acknowledged_and_not_stored(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    token = signed_webhook(webhook_keys, event_type="wix.ecom.v1.order_updated")

    assert answer(webhook_handler(webhook_event(token), None)) == (200, {"status": "ignored"})
    assert all_items(dynamodb, orders_table) == []


# --- Rejections: each gets its documented status and writes nothing. ---


def wrong_signature(keys: KeyPair, other: KeyPair) -> str:
    header, _, signature = signed_webhook(keys).split(".")
    forged_claims = valid_claims() | {"exp": int(time.time()) + 10**6}
    forged_payload = b64url(json.dumps(forged_claims).encode())
    return f"{header}.{forged_payload}.{signature}"


def signed_by_another_key(keys: KeyPair, other: KeyPair) -> str:
    return signed_webhook(other)


def alg_none(keys: KeyPair, other: KeyPair) -> str:
    return unsigned_parts({"alg": "none", "typ": "JWT"}, valid_claims()) + "."


def hs256_with_public_key(keys: KeyPair, other: KeyPair) -> str:
    signing_input = unsigned_parts({"alg": "HS256", "typ": "JWT"}, valid_claims())
    mac = hmac.new(keys.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def expired(keys: KeyPair, other: KeyPair) -> str:
    return signed_webhook(keys, expires_in=-3600)


def no_data_claim(keys: KeyPair, other: KeyPair) -> str:
    claims = valid_claims()
    del claims["data"]
    return sign_claims(keys, claims)


def data_not_a_string(keys: KeyPair, other: KeyPair) -> str:
    claims = valid_claims()
    claims["data"] = json.loads(claims["data"])
    return sign_claims(keys, claims)


def inner_data_not_json(keys: KeyPair, other: KeyPair) -> str:
    claims = valid_claims()
    webhook = json.loads(claims["data"])
    webhook["data"] = "{not json"
    claims["data"] = json.dumps(webhook)
    return sign_claims(keys, claims)


def deeply_nested_inner_data(keys: KeyPair, other: KeyPair) -> str:
    claims = valid_claims()
    webhook = json.loads(claims["data"])
    webhook["data"] = "[" * 100_000 + "]" * 100_000
    claims["data"] = json.dumps(webhook)
    return sign_claims(keys, claims)


def wrong_entity_fqdn(keys: KeyPair, other: KeyPair) -> str:
    return with_envelope_change(keys, lambda e: e.update(entityFqdn="wix.ecom.v1.checkout"))


def wrong_slug(keys: KeyPair, other: KeyPair) -> str:
    return with_envelope_change(keys, lambda e: e.update(slug="canceled"))


def entity_id_differs_from_order_id(keys: KeyPair, other: KeyPair) -> str:
    return with_envelope_change(
        keys, lambda e: e.update(entityId="11111111-2222-4333-8444-555555555555")
    )


def non_guid_event_id(keys: KeyPair, other: KeyPair) -> str:
    return with_envelope_change(keys, lambda e: e.update(id="not-a-guid"))


def non_guid_order_id(keys: KeyPair, other: KeyPair) -> str:
    def change(envelope: dict[str, Any]) -> None:
        envelope["entityId"] = "order-10002"
        order_of(envelope)["id"] = "order-10002"

    return with_envelope_change(keys, change)


def non_guid_instance_id(keys: KeyPair, other: KeyPair) -> str:
    return signed_webhook(keys, instance_id="site-1")


def line_items_301(keys: KeyPair, other: KeyPair) -> str:
    def change(envelope: dict[str, Any]) -> None:
        template = order_of(envelope)["lineItems"][0]
        order_of(envelope)["lineItems"] = [
            {**template, "id": f"00000000-0000-0000-0000-{index:012d}"} for index in range(301)
        ]

    return with_envelope_change(keys, change)


def zero_quantity(keys: KeyPair, other: KeyPair) -> str:
    return with_envelope_change(keys, lambda e: order_of(e)["lineItems"][0].update(quantity=0))


def empty_body(keys: KeyPair, other: KeyPair) -> str:
    return ""


def not_a_token(keys: KeyPair, other: KeyPair) -> str:
    return '{"data": "hello"}'


REJECTIONS = [
    (wrong_signature, 401),
    (signed_by_another_key, 401),
    (alg_none, 401),
    (hs256_with_public_key, 401),
    (expired, 401),
    (empty_body, 401),
    (not_a_token, 401),
    (no_data_claim, 400),
    (data_not_a_string, 400),
    (inner_data_not_json, 400),
    (deeply_nested_inner_data, 400),
    (wrong_entity_fqdn, 400),
    (wrong_slug, 400),
    (entity_id_differs_from_order_id, 400),
    (non_guid_event_id, 400),
    (non_guid_order_id, 400),
    (non_guid_instance_id, 400),
    (line_items_301, 400),
    (zero_quantity, 400),
]


@pytest.mark.parametrize(
    ("make_body", "status"), REJECTIONS, ids=[make.__name__ for make, _ in REJECTIONS]
)
@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain-body", "base64-body"])
def test_bad_deliveries_get_their_status_and_write_nothing(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    other_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    make_body: Callable[[KeyPair, KeyPair], str],
    status: int,
    base64_encoded: bool,
) -> None:
    event = webhook_event(make_body(webhook_keys, other_keys), base64_encoded=base64_encoded)

    got_status, body = answer(webhook_handler(event, None))

    assert got_status == status
    assert set(body) == {"error"}
    assert "Traceback" not in body["error"]
    assert all_items(dynamodb, orders_table) == []


@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain-body", "base64-body"])
def test_a_body_over_the_size_limit_is_refused_unread(
    load_webhook_handler: Callable[..., Handler],
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    base64_encoded: bool,
) -> None:
    token = signed_webhook(webhook_keys)
    handler = load_webhook_handler(WEBHOOK_MAX_BODY_BYTES=str(len(token) - 1))

    response = handler(webhook_event(token, base64_encoded=base64_encoded), None)

    assert answer(response) == (413, {"error": "request body too large"})
    assert all_items(dynamodb, orders_table) == []


def test_default_size_limit_admits_a_300_line_order_and_refuses_11_mib(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    def three_hundred_lines(envelope: dict[str, Any]) -> None:
        template = order_of(envelope)["lineItems"][0]
        order_of(envelope)["lineItems"] = [
            {**template, "id": f"00000000-0000-0000-0000-{index:012d}"} for index in range(300)
        ]

    large_order = with_envelope_change(webhook_keys, three_hundred_lines)

    assert answer(webhook_handler(webhook_event(large_order), None))[0] == 200
    assert answer(webhook_handler(webhook_event("x" * 11 * 1024 * 1024), None))[0] == 413
    [item] = order_items(dynamodb, orders_table)
    assert len(item["lineItems"]["L"]) == 300


def test_unreachable_dynamodb_answers_503_without_internals(
    load_webhook_handler: Callable[..., Handler], webhook_keys: KeyPair
) -> None:
    from infra.local_stack.dynamodb_local import free_loopback_port

    handler = load_webhook_handler(
        AWS_ENDPOINT_URL_DYNAMODB=f"http://127.0.0.1:{free_loopback_port()}"
    )

    response = handler(webhook_event(signed_webhook(webhook_keys)), None)

    assert answer(response) == (503, {"error": "order could not be stored, retry later"})


def test_with_lambdas_environment_the_order_is_written_without_boto3(
    webhook_handler: Handler,
) -> None:
    """Lambda gives credentials and region in the environment: DynamoDBLite writes (the cold
    start then loads no botocore)."""
    from wix_fulfillment.adapters.dynamodb_lite import DynamoDBLite

    assert isinstance(webhook_parts().orders.transport, DynamoDBLite)


def test_without_credentials_in_the_environment_boto3_stores_the_order(
    load_webhook_handler: Callable[..., Handler],
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """DynamoDBLite reads credentials from the environment only (Lambda's); anywhere else the
    webhook writes through boto3 and its whole credential chain (here a shared credentials
    file)."""
    import boto3

    from wix_fulfillment.adapters.boto3_dynamodb import Boto3Transport

    credentials = tmp_path / "credentials"
    credentials.write_text("[default]\naws_access_key_id = local\naws_secret_access_key = local\n")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    handler = load_webhook_handler()

    response = handler(webhook_event(signed_webhook(webhook_keys)), None)

    assert isinstance(webhook_parts().orders.transport, Boto3Transport)
    assert answer(response) == (200, {"status": "accepted"})
    assert len(order_items(dynamodb, orders_table)) == 1


def test_a_key_given_as_one_line_of_base64_starts_the_function(
    load_webhook_handler: Callable[..., Handler], webhook_keys: KeyPair
) -> None:
    one_line = base64.b64encode(webhook_keys.public_pem.encode()).decode()
    handler = load_webhook_handler(WIX_WEBHOOK_PUBLIC_KEY=one_line)

    response = handler(webhook_event(signed_webhook(webhook_keys)), None)

    assert answer(response) == (200, {"status": "accepted"})


def test_a_pretty_printed_300_line_order_of_5_mb_is_stored(
    webhook_handler: Handler, webhook_keys: KeyPair, dynamodb: DynamoDBClient, orders_table: str
) -> None:
    envelope = seed_order_envelope()
    order = envelope["actionEvent"]["body"]["order"]
    [line] = order["lineItems"][:1]
    order["lineItems"] = [
        line
        | {
            "id": f"00000000-0000-0000-0000-{index:012d}",
            "descriptionLines": [
                {"name": {"original": "Engraving"}, "plainText": {"original": "x" * 200}}
            ]
            * 24,
        }
        for index in range(300)
    ]
    now = int(time.time())
    webhook = {"eventType": "wix.ecom.v1.order_approved", "instanceId": INSTANCE_ID}
    claims = {
        "data": wix_json(webhook | {"data": wix_json(envelope)}),
        "iat": now,
        "exp": now + 3600,
    }
    token = sign_claims(webhook_keys, claims)
    assert 5 * 1024 * 1024 < len(token) < 6 * 1024 * 1024

    response = webhook_handler(webhook_event(token), None)

    assert answer(response) == (200, {"status": "accepted"})
    [item] = order_items(dynamodb, orders_table)
    assert len(item["lineItems"]["L"]) == 300
