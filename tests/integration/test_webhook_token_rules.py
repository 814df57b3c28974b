"""Token rules at their edges: what Wix's own SDK accepts we accept; the size limit is exact."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from infra.samples.webhook_signing import sign_wix_webhook, wix_webhook_claims
from tests.support.lambda_functions import Handler
from tests.support.webhooks import KeyPair, seed_order_envelope, signed_webhook, webhook_event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

pytestmark = pytest.mark.integration

INSTANCE_ID = "0d1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


TIME_CLAIMS = ("iat", "exp")


def token_with(keys: KeyPair, **claim_changes: Any) -> str:
    """A seed-order token whose claims are changed: None removes a claim, and a number for
    ``iat`` or ``exp`` is seconds from now (taken when the token is made, not when collected)."""
    now = int(time.time())
    claims = wix_webhook_claims(
        seed_order_envelope(), instance_id=INSTANCE_ID, issued_at=now, expires_at=now + 3600
    )
    for name, value in claim_changes.items():
        if value is None:
            claims.pop(name, None)
        elif name in TIME_CLAIMS and isinstance(value, int):
            claims[name] = now + value
        else:
            claims[name] = value
    return sign_wix_webhook(claims, keys.private_key)


def status_of(handler: Handler, token: str, base64_encoded: bool = False) -> int:
    response = handler(webhook_event(token, base64_encoded=base64_encoded), None)
    status: int = response["statusCode"]
    assert json.loads(response["body"])
    return status


@pytest.mark.parametrize(
    ("claim_changes", "status"),
    [
        ({"aud": "some-audience"}, 200),
        ({"iat": 600}, 200),
        ({"exp": -30}, 200),
        ({"exp": -120}, 401),
        ({"exp": None}, 200),
        ({"exp": "tomorrow"}, 401),
    ],
    ids=[
        "audience-claim",
        "issued-in-the-future",
        "expired-within-leeway",
        "expired-past-leeway",
        "no-exp",
        "exp-not-a-number",
    ],
)
def test_token_claims_at_the_edges(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    claim_changes: dict[str, Any],
    status: int,
) -> None:
    assert status_of(webhook_handler, token_with(webhook_keys, **claim_changes)) == status


@pytest.mark.parametrize("padding", range(6))
@pytest.mark.parametrize("base64_encoded", [False, True], ids=["plain-body", "base64-body"])
def test_a_body_a_byte_over_the_limit_is_refused_whatever_its_length(
    load_webhook_handler: Callable[..., Handler],
    webhook_keys: KeyPair,
    dynamodb: DynamoDBClient,
    orders_table: str,
    padding: int,
    base64_encoded: bool,
) -> None:
    # Base64 turns 3 bytes into 4: tokens of every length modulo 3 must meet the same limit.
    token = token_with(webhook_keys, padding="x" * padding)
    handler = load_webhook_handler(WEBHOOK_MAX_BODY_BYTES=str(len(token) - 1))

    assert status_of(handler, token, base64_encoded) == 413
    assert dynamodb.scan(TableName=orders_table)["Items"] == []


def test_a_body_exactly_at_the_limit_is_read(
    load_webhook_handler: Callable[..., Handler], webhook_keys: KeyPair
) -> None:
    token = signed_webhook(webhook_keys)
    handler = load_webhook_handler(WEBHOOK_MAX_BODY_BYTES=str(len(token)))

    assert status_of(handler, token, base64_encoded=True) == 200
