"""Make Wix webhook deliveries for tests: the seed payload, signed, in API Gateway's event shape."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.apigw_events import http_api_event
from infra.sample_events import seed_envelope
from infra.webhook_signing import sign_wix_webhook, wix_webhook_claims

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
