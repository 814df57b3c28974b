"""Reading request bodies: each check names the field it refuses, as Wix's validation errors do.

Shared by Wix's routes, the control API and the carrier, so that a malformed request reads the
same wherever it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, TypeGuard

from infra.wix_sandbox.errors import validation_error

# What Wix's routes say of a field that is not an object, and what the sandbox's own routes say.
REQUIRED_OBJECT: Final = "required object"
NOT_A_JSON_OBJECT: Final = "must be a JSON object"

_GUID: Final = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def json_object(value: object, where: str, description: str = REQUIRED_OBJECT) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise validation_error(where, description)
    return value


def optional_json_object(value: object) -> Mapping[str, Any]:
    """A body the sandbox's routes may leave empty: nothing reads as ``{}``."""
    return {} if value is None else json_object(value, "body", NOT_A_JSON_OBJECT)


def listed(value: object, where: str, what: str, most: int | None = None) -> list[Any]:
    """A list of at least one item (and at most ``most``); ``what`` names the items."""
    if not isinstance(value, list) or not value or (most is not None and len(value) > most):
        span = "at least 1" if most is None else f"1 to {most}"
        raise validation_error(where, f"must list {span} {what}")
    return value


def known_settings(settings: Mapping[str, Any], names: frozenset[str], where: str) -> None:
    unknown = set(settings) - names
    if unknown:
        raise validation_error(where, f"unknown settings: {', '.join(sorted(unknown))}")


def required_string(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise validation_error(name, "required string")
    return value


def whole_number(value: object, low: int, high: int) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def count(value: object, where: str) -> int:
    if type(value) is not int or value < 1:
        raise validation_error(where, "must be a whole number of at least 1")
    return value


def positive_number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise validation_error(where, "must be a number above 0")
    return float(value)


def flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise validation_error(where, "must be true or false")
    return value


def is_guid(value: object) -> bool:
    return isinstance(value, str) and _GUID.fullmatch(value) is not None


def require_guid(value: object, where: str) -> None:
    if not is_guid(value):
        raise validation_error(where, "must be a GUID")
