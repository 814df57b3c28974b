"""Configuration mistakes fail at cold start with a message that names the setting."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.webhooks import KeyPair, signed_webhook
from wix_fulfillment.adapters.app_secret import NOT_SET, app_secret_reader
from wix_fulfillment.adapters.settings import (
    ConfigurationError,
    FulfillmentSettings,
    WebhookSettings,
)
from wix_fulfillment.adapters.wix_webhook import (
    InvalidToken,
    WebhookVerifier,
    load_webhook_public_key,
)
from wix_fulfillment.core.model import AppSecretNotSet

KEYS = KeyPair.generate()


def pem_body(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "-----" not in line)


@pytest.mark.parametrize(
    "form",
    [
        KEYS.public_pem,
        KEYS.public_pem.replace("\n", "\\n"),
        pem_body(KEYS.public_pem),
        "  " + KEYS.public_pem.replace("\n", "\r\n") + "  ",
        base64.b64encode(KEYS.public_pem.encode()).decode(),
    ],
    ids=["pem", "one-line-escaped", "body-only", "crlf-and-spaces", "base64-of-the-pem"],
)
def test_public_key_forms_that_survive_a_setting_all_verify(form: str) -> None:
    verifier = WebhookVerifier(load_webhook_public_key(form))

    assert "data" in verifier.verified_claims(signed_webhook(KEYS).encode())


def test_verification_fails_with_another_key() -> None:
    verifier = WebhookVerifier(load_webhook_public_key(KeyPair.generate().public_pem))

    with pytest.raises(InvalidToken, match="Signature verification failed"):
        verifier.verified_claims(signed_webhook(KEYS).encode())


@pytest.mark.parametrize(
    "text",
    [
        "not a key",
        KEYS.public_pem[: len(KEYS.public_pem) // 2],
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    ],
    ids=["garbage", "truncated", "not-rsa"],
)
def test_unusable_public_keys_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError, match="WIX_WEBHOOK_PUBLIC_KEY"):
        load_webhook_public_key(text)


def pem_of(der: bytes) -> str:
    return (
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(der).decode()
        + "\n-----END PUBLIC KEY-----"
    )


def der_of(public_key: rsa.RSAPublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize(("key_size", "exponent"), [(1024, 3), (2048, 65537), (4096, 65537)])
def test_an_rsa_key_is_read_as_cryptography_reads_it(key_size: int, exponent: int) -> None:
    public_key = rsa.generate_private_key(exponent, key_size).public_key()

    loaded = load_webhook_public_key(pem_of(der_of(public_key)))

    assert loaded.public_numbers() == public_key.public_numbers()


def test_a_key_cut_short_or_with_bytes_after_it_is_refused() -> None:
    der = der_of(KEYS.private_key.public_key())
    broken = [der[:length] for length in range(len(der))] + [der + b"\x00", der + der]

    for text in map(pem_of, broken):
        with pytest.raises(ConfigurationError, match="WIX_WEBHOOK_PUBLIC_KEY"):
            load_webhook_public_key(text)


def der_value(tag: int, content: bytes, length_bytes: int = 0) -> bytes:
    """A DER value; with ``length_bytes``, its length in that many bytes of the long form."""
    if not length_bytes and len(content) < 0x80:
        return bytes([tag, len(content)]) + content
    length = len(content).to_bytes(length_bytes or (len(content).bit_length() + 7) // 8)
    return bytes([tag, 0x80 | len(length)]) + length + content


def spki(
    modulus: bytes,
    exponent: bytes = b"\x01\x00\x01",
    *,
    algorithm: str = "06092a864886f70d0101010500",
    unused_bits: bytes = b"\x00",
    length_bytes: tuple[int, int] = (0, 0),
) -> bytes:
    """An RSA SubjectPublicKeyInfo; ``length_bytes`` for the modulus's and exponent's lengths."""
    numbers = der_value(0x02, modulus, length_bytes[0]) + der_value(0x02, exponent, length_bytes[1])
    key = der_value(0x30, numbers)
    body = der_value(0x30, bytes.fromhex(algorithm)) + der_value(0x03, unused_bits + key)
    return der_value(0x30, body)


def test_only_the_canonical_der_of_an_rsa_key_is_accepted() -> None:
    modulus = b"\x00" + KEYS.private_key.public_key().public_numbers().n.to_bytes(256)
    assert spki(modulus) == der_of(KEYS.private_key.public_key())
    # rsaEncryption's parameters are NULL, and may be left out (RFC 8017 A.1).
    load_webhook_public_key(pem_of(spki(modulus, algorithm="06092a864886f70d010101")))

    for der in [
        spki(b"\x00" + modulus),  # a zero too many
        spki(modulus[1:]),  # a negative modulus
        spki(modulus, b"\x00\x01\x00\x01"),
        spki(modulus, length_bytes=(0, 1)),  # a length under 128 in the long form
        spki(modulus, length_bytes=(3, 0)),  # a length with a leading zero byte
        spki(modulus, unused_bits=b"\x01"),
        spki(modulus, algorithm="06072a8648ce3d020106082a8648ce3d030107"),  # an EC P-256 key
    ]:
        with pytest.raises(ConfigurationError, match="WIX_WEBHOOK_PUBLIC_KEY"):
            load_webhook_public_key(pem_of(der))


def test_settings_name_the_missing_variable() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME is not set"):
        WebhookSettings.from_environment({"WIX_WEBHOOK_PUBLIC_KEY": KEYS.public_pem})


@pytest.mark.parametrize("value", ["0", "-5", "2MB"])
def test_settings_refuse_a_bad_body_limit(value: str) -> None:
    environment = {
        "TABLE_NAME": "orders",
        "WIX_WEBHOOK_PUBLIC_KEY": KEYS.public_pem,
        "WEBHOOK_MAX_BODY_BYTES": value,
    }
    with pytest.raises(ConfigurationError, match="WEBHOOK_MAX_BODY_BYTES must be a positive"):
        WebhookSettings.from_environment(environment)


def test_settings_defaults() -> None:
    settings = WebhookSettings.from_environment(
        {"TABLE_NAME": "orders", "WIX_WEBHOOK_PUBLIC_KEY": KEYS.public_pem}
    )

    assert (settings.max_body_bytes, settings.order_retention_days) == (10 * 1024 * 1024, 90)


WORKER_ENVIRONMENT = {"TABLE_NAME": "orders", "WIX_APP_ID": "app", "WIX_APP_SECRET": "s3cret"}


def test_worker_settings_defaults() -> None:
    settings = FulfillmentSettings.from_environment(WORKER_ENVIRONMENT)

    assert settings.wix.api_base_url == "https://www.wixapis.com"
    assert settings.shipment_provider == "none"
    assert settings.fulfillable_item_types == frozenset({"PHYSICAL"})
    assert (settings.fulfiller_id, settings.fulfill_pickup_orders) == (None, False)
    assert app_secret_reader(settings.wix.app_secret, settings.wix.app_secret_arn)() == "s3cret"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"SHIPMENT_PROVIDER": "pigeon"}, "SHIPMENT_PROVIDER must be one of: none, http"),
        ({"SHIPMENT_PROVIDER": "http"}, "SHIPMENT_PROVIDER=http needs SHIPMENT_PROVIDER_URL"),
        ({"FULFILLABLE_ITEM_TYPES": " , "}, "FULFILLABLE_ITEM_TYPES names no type"),
        ({"WIX_APP_ID": ""}, "WIX_APP_ID is not set"),
        ({"FULFILL_PICKUP_ORDERS": "yes"}, "FULFILL_PICKUP_ORDERS must be true or false"),
    ],
)
def test_worker_settings_refuse_bad_values(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        FulfillmentSettings.from_environment(WORKER_ENVIRONMENT | overrides)


def test_an_app_secret_must_come_from_somewhere() -> None:
    with pytest.raises(ConfigurationError, match="WIX_APP_SECRET_ARN"):
        app_secret_reader(None, None)


@pytest.mark.parametrize("value", [NOT_SET, ""])
def test_the_stacks_placeholder_reads_as_an_app_secret_not_set(value: str) -> None:
    with pytest.raises(AppSecretNotSet, match="the app secret has not been set"):
        app_secret_reader(value, None)()
