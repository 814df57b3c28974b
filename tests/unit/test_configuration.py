"""Configuration mistakes fail at cold start with a message that names the setting."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

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
