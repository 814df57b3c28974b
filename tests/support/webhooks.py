"""Make Wix webhook deliveries for tests (the seed payload, signed, in API Gateway's event shape),
forge bad ones, and read what the handler answered and stored."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from infra.local_stack.apigw_events import http_api_event
from infra.samples.dev_data import seed_envelope
from infra.samples.webhook_signing import sign_wix_webhook, wix_webhook_claims

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

INSTANCE_ID = "0d1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SEED_ORDER_ID = "e994ac9d-26b0-4f81-8047-00a2e964d6bf"
SEED_EVENT_ID = "162075ea-7271-411b-b555-de545e8e6f38"


@dataclass(frozen=True)
class KeyPair:
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @cached_property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @cached_property
    def public_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )


def seed_order_envelope() -> dict[str, Any]:
    """A fresh copy of the Order Approved payload from Wix's documentation page."""
    return copy.deepcopy(seed_envelope())


def signed_webhook(
    keys: KeyPair,
    envelope: dict[str, Any] | None = None,
    *,
    instance_id: str = INSTANCE_ID,
    expires_in: int = 3600,
    **claims_options: Any,
) -> str:
    now = int(time.time())
    claims = wix_webhook_claims(
        seed_order_envelope() if envelope is None else envelope,
        instance_id=instance_id,
        issued_at=now,
        expires_at=now + expires_in,
        **claims_options,
    )
    return sign_wix_webhook(claims, keys.private_key)


def webhook_event(token: str, *, base64_encoded: bool = False) -> dict[str, Any]:
    return http_api_event(token, base64_encoded=base64_encoded)


@dataclass(frozen=True)
class Delivery:
    """What API Gateway hands the function: the body as a string, base64 or not (or none)."""

    body: str | None
    base64_encoded: bool = False

    def event(self) -> dict[str, Any]:
        event = http_api_event("")
        event["isBase64Encoded"] = self.base64_encoded
        if self.body is None:
            del event["body"]
        else:
            event["body"] = self.body
        return event


class Raw:
    """JSON text placed verbatim where a value goes: what ``json.dumps`` will not write (an
    integer of 5,000 digits, nesting deeper than any parser allows)."""

    def __init__(self, text: str) -> None:
        self.text = text


def to_json(value: Any) -> str:
    """``json.dumps``, with each :class:`Raw` value spliced in as its text."""
    raws: list[str] = []

    def placeholder(raw: object) -> str:
        if not isinstance(raw, Raw):
            raise TypeError(f"not JSON: {type(raw).__name__}")
        raws.append(raw.text)
        return f"@@raw-{len(raws) - 1}@@"

    text = json.dumps(value, default=placeholder)
    for index, raw_text in enumerate(raws):
        text = text.replace(f'"@@raw-{index}@@"', raw_text)
    return text


RS256_HEADER: Final = b'{"alg":"RS256","typ":"JWT"}'


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_parts(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``header.payload`` of a JWT, without its signature segment."""
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"


def valid_claims(
    envelope: dict[str, Any] | None = None,
    *,
    instance_id: str = INSTANCE_ID,
    expires_in: int = 3600,
    **claims_options: Any,
) -> dict[str, Any]:
    """The claims of a good delivery (the seed order unless given), to alter before signing."""
    now = int(time.time())
    return wix_webhook_claims(
        seed_order_envelope() if envelope is None else envelope,
        instance_id=instance_id,
        issued_at=now,
        expires_at=now + expires_in,
        **claims_options,
    )


def sign_claims(keys: KeyPair, claims: dict[str, Any]) -> str:
    return sign_wix_webhook(claims, keys.private_key)


def sign_raw(keys: KeyPair, header: bytes, payload: bytes) -> str:
    """A genuine RS256 signature over segments that need not be JSON at all: what a token Wix
    signed looks like whatever its content, so only the content can be blamed."""
    signing_input = f"{b64url(header)}.{b64url(payload)}"
    signature = keys.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def with_envelope_change(keys: KeyPair, change: Callable[[dict[str, Any]], None]) -> str:
    envelope = seed_order_envelope()
    change(envelope)
    return signed_webhook(keys, envelope)


def order_of(envelope: dict[str, Any]) -> dict[str, Any]:
    order: dict[str, Any] = envelope["actionEvent"]["body"]["order"]
    return order


def all_items(dynamodb: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]


def order_items(dynamodb: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    """The order items, without the site registry's items beside them."""
    return [item for item in all_items(dynamodb, table) if item["pk"]["S"].startswith("ORDER#")]


def site_items(dynamodb: DynamoDBClient, table: str) -> dict[str, dict[str, Any]]:
    """The site registry's items, by instance id."""
    return {
        item["instanceId"]["S"]: item
        for item in all_items(dynamodb, table)
        if item["pk"]["S"].startswith("SITE#")
    }


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    assert response["headers"]["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


ANSWER_STATUSES: Final = frozenset({200, 400, 401, 413})
MAX_ANSWER_BYTES: Final = 160
_INTERNALS: Final = re.compile(
    r"Traceback|\bFile \"|\.py\b|[/\\]|\b[A-Z]\w*(Error|Exception)\b|\bline \d+|0x[0-9a-f]{6,}"
)


def safe_answer(response: dict[str, Any], *, echo: str = "CANARY") -> tuple[int, dict[str, Any]]:
    """The answer to a delivery that is not a storage failure, checked for what Wix may see.

    One of 200/400/401/413, a short JSON object with one ASCII string, naming no exception
    class, file or line, and not repeating ``echo`` (a marker tests plant in request values):
    request values may be buyer data, and internals help nobody at Wix.
    """
    status, body = answer(response)
    text = response["body"]
    assert status in ANSWER_STATUSES, f"status {status}"
    assert len(text) <= MAX_ANSWER_BYTES, f"answer of {len(text)} bytes"
    assert text.isascii()
    [(key, value)] = body.items()
    assert key == ("status" if status == 200 else "error")
    assert isinstance(value, str)
    if status == 200:
        assert value in {"accepted", "duplicate", "applied", "unchanged", "ignored"}
    assert not _INTERNALS.search(value), value
    assert echo.lower() not in text.lower(), "the answer repeats a request value"
    return status, body


def claims_for(
    envelope: dict[str, Any], *, event_type: str = "wix.ecom.v1.order_approved"
) -> dict[str, Any]:
    webhook = {"eventType": event_type, "instanceId": INSTANCE_ID, "data": json.dumps(envelope)}
    return {"data": json.dumps(webhook), "iat": 1, "exp": 2}
