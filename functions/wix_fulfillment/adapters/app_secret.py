"""The Wix app secret: given directly (locally) or read from Secrets Manager, cached so that a
rotation shows within minutes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Final

from wix_fulfillment.adapters.settings import ConfigurationError
from wix_fulfillment.core.model import AppSecretNotSet

APP_SECRET_CACHE_SECONDS: Final = 300
NOT_SET: Final = "NOT SET: put your Wix app secret here"
"""What the stack stores in the secret it creates (template.yaml), until the operator puts the
real one in: a value no Wix app secret has, so "not set yet" is told apart from "refused"."""


def app_secret_reader(secret: str | None, secret_arn: str | None) -> Callable[[], str]:
    """The stored secret may be plain text or JSON ``{"appSecret": "..."}`` (the console's
    key/value form)."""
    if secret is not None:
        return lambda: _set(secret, "WIX_APP_SECRET")
    if secret_arn is None:
        raise ConfigurationError(
            "set WIX_APP_SECRET_ARN (Secrets Manager) or, locally, WIX_APP_SECRET"
        )
    arn = secret_arn

    def read() -> str:
        from aws_lambda_powertools.utilities import parameters

        value = parameters.get_secret(arn, max_age=APP_SECRET_CACHE_SECONDS)
        text = value.decode() if isinstance(value, bytes) else str(value)
        if text.lstrip().startswith("{"):
            stored = json.loads(text)
            if isinstance(stored, dict) and isinstance(stored.get("appSecret"), str):
                return str(stored["appSecret"])
            raise ConfigurationError(f"secret {arn} is JSON without a string 'appSecret'")
        return _set(text.strip(), f"secret {arn}")

    return read


def _set(value: str, where: str) -> str:
    if not value or value == NOT_SET:
        raise AppSecretNotSet(f"the app secret has not been set ({where})")
    return value
