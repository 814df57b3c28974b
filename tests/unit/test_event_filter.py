"""Local evaluation of Lambda event filter patterns, as the event source mapping applies them."""

from __future__ import annotations

import pytest

from infra.local_stack.event_filter import matches, matches_any


def test_exact_values_nested_objects_and_arrays() -> None:
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"status": {"S": ["PENDING"]}}}}

    assert matches(
        pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {"status": {"S": "PENDING"}}}}
    )
    assert not matches(
        pattern, {"eventName": "MODIFY", "dynamodb": {"NewImage": {"status": {"S": "PENDING"}}}}
    )
    assert not matches(pattern, {"eventName": "INSERT", "dynamodb": {"NewImage": {}}})
    assert matches({"tags": ["b"]}, {"tags": ["a", "b"]})


def test_exists_false_matches_below_a_missing_parent() -> None:
    pattern = {"dynamodb": {"OldImage": {"marker": {"S": [{"exists": False}]}}}}

    assert matches(pattern, {"dynamodb": {}})
    assert matches(pattern, {"dynamodb": {"OldImage": {"other": {"S": "x"}}}})
    assert not matches(pattern, {"dynamodb": {"OldImage": {"marker": {"S": "x"}}}})


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"exists": True}, "x", True),
        ({"prefix": "ORD"}, "ORDER#1", True),
        ({"prefix": "ORD"}, "X", False),
        ({"suffix": "#1"}, "ORDER#1", True),
        ({"anything-but": ["SKIPPED", "REJECTED"]}, "PENDING", True),
        ({"anything-but": "PENDING"}, "PENDING", False),
        ({"numeric": [">", 0, "<=", 5]}, 5, True),
        ({"numeric": [">", 0]}, "5", False),
    ],
)
def test_operators(rule: dict[str, object], value: object, expected: bool) -> None:
    assert matches({"field": [rule]}, {"field": value}) is expected


def test_any_pattern_of_a_list_may_match_and_json_text_is_accepted() -> None:
    patterns: list[str | dict[str, list[str]]] = ['{"a": ["x"]}', {"b": ["y"]}]

    assert matches_any(patterns, {"b": "y"})
    assert not matches_any(patterns, {"a": "y"})


def test_unsupported_operators_are_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="not supported"):
        matches({"a": [{"wildcard": "*x"}]}, {"a": "yx"})
