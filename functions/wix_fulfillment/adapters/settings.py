"""Configuration from the environment, read once per execution environment (cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

DEFAULT_MAX_WEBHOOK_BODY_BYTES: Final = 2 * 1024 * 1024
DEFAULT_ORDER_RETENTION_DAYS: Final = 90


class ConfigurationError(RuntimeError):
    """The function's environment is missing or has a bad setting; the message names it."""


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    table_name: str
    webhook_public_key: str
    max_body_bytes: int
    order_retention_days: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> WebhookSettings:
        return cls(
            table_name=_required(environ, "TABLE_NAME"),
            webhook_public_key=_required(environ, "WIX_WEBHOOK_PUBLIC_KEY"),
            max_body_bytes=_positive_int(
                environ, "WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_WEBHOOK_BODY_BYTES
            ),
            order_retention_days=_positive_int(
                environ, "ORDER_RETENTION_DAYS", DEFAULT_ORDER_RETENTION_DAYS
            ),
        )


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigurationError(f"environment variable {name} must be a positive whole number")
    return int(raw)
