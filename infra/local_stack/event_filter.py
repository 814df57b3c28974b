"""Lambda event filtering (the EventBridge pattern syntax), to apply the template's stream filters
locally exactly as the event source mapping applies them in AWS.

Supported: exact values, ``exists``, ``prefix``, ``suffix``, ``anything-but``, ``numeric``, nested
objects, and array fields (a match on any element). Anything else raises ``ValueError`` rather
than guessing.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

_MISSING: Final = object()
_NUMERIC: Final[dict[str, Callable[[float, float], bool]]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matches_any(patterns: Iterable[str | Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """A record passes a mapping's filters when any one pattern matches it."""
    return any(matches(_pattern(pattern), record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Every field of the pattern matches. Patterns are paths: a missing parent object is an
    object whose fields are all missing (so ``{"exists": false}`` below it matches)."""
    for key, rule in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(rule, Mapping):
            if not matches(rule, value if isinstance(value, Mapping) else {}):
                return False
        elif isinstance(rule, list):
            if not _field_matches(rule, value):
                return False
        else:
            raise ValueError(f"pattern field {key!r} must be an object or a list")
    return True


def _pattern(pattern: str | Mapping[str, Any]) -> Mapping[str, Any]:
    parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
    if not isinstance(parsed, Mapping):
        raise ValueError("a filter pattern must be a JSON object")
    return parsed


def _field_matches(rules: Sequence[Any], value: object) -> bool:
    candidates = value if isinstance(value, list) else [value]
    return any(_rule_matches(rule, candidate) for rule in rules for candidate in candidates)


def _rule_matches(rule: object, value: object) -> bool:
    if not isinstance(rule, Mapping):
        return value is not _MISSING and value == rule
    if len(rule) != 1:
        raise ValueError(f"a matcher has exactly one operator, got {sorted(rule)}")
    [(name, argument)] = rule.items()
    if name == "exists":
        return (value is not _MISSING) is bool(argument)
    if value is _MISSING:
        return False
    if name == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if name == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if name == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return value not in excluded
    if name == "numeric":
        return _numeric_matches(argument, value)
    raise ValueError(f"filter operator {name!r} is not supported locally")


def _numeric_matches(conditions: Sequence[Any], value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    pairs = zip(conditions[::2], conditions[1::2], strict=True)
    return all(_NUMERIC[symbol](float(value), float(bound)) for symbol, bound in pairs)
