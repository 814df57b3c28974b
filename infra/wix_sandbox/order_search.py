"""Search Orders (``POST /ecom/v1/orders/search``) in Wix's API query language: a filter, a sort
and cursor paging, over one site's orders.

Fields and operators are the ones Wix's "Orders: Supported Filters and Sorting" page lists for
the fields clients use here; another field or operator is a 400, as Wix answers a query it does
not support. Defaults as Wix documents them: ``createdDate`` descending, 100 a page, and never an
``INITIALIZED`` order. A cursor carries the query it continues ("following requests use the
cursor token and not filter or sort", as the SDK's typings say); a request that sends a filter or
sort beside a cursor is refused (see ``unconfirmed``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from infra.wix_sandbox.errors import validation_error
from infra.wix_sandbox.parsing import json_object

MAX_PAGE: Final = 100
DEFAULT_SORT: Final = {"fieldName": "createdDate", "order": "DESC"}
FIELD_OPERATORS: Final = {
    "id": frozenset({"$eq", "$ne", "$in", "$nin"}),
    "number": frozenset({"$eq", "$ne", "$gt", "$lt", "$gte", "$lte"}),
    "status": frozenset({"$eq", "$ne", "$in", "$nin"}),
    "paymentStatus": frozenset({"$eq", "$ne", "$in", "$nin"}),
    "fulfillmentStatus": frozenset({"$eq", "$ne", "$in", "$nin"}),
    "createdDate": frozenset({"$eq", "$ne", "$lt", "$lte", "$gte", "$gt", "$nin"}),
    "updatedDate": frozenset({"$eq", "$ne", "$gt", "$lt", "$gte", "$lte"}),
}
SORTABLE: Final = frozenset({"number", "status", "paymentStatus", "fulfillmentStatus"}) | {
    "createdDate",
    "updatedDate",
}
_COMPARE: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "$eq": lambda value, operand: value == operand,
    "$ne": lambda value, operand: value != operand,
    "$in": lambda value, operand: value in operand,
    "$nin": lambda value, operand: value not in operand,
    "$gt": lambda value, operand: value is not None and value > operand,
    "$gte": lambda value, operand: value is not None and value >= operand,
    "$lt": lambda value, operand: value is not None and value < operand,
    "$lte": lambda value, operand: value is not None and value <= operand,
}
_DATES: Final = frozenset({"createdDate", "updatedDate"})
_LISTS: Final = frozenset({"$in", "$nin"})


def search_page(orders: Sequence[Mapping[str, Any]], body: object) -> dict[str, Any]:
    """One page of Search Orders' answer over ``orders`` (one site's, as stored)."""
    search = json_object(json_object(body, "body").get("search", {}), "search")
    paging = json_object(search.get("cursorPaging", {}), "search.cursorPaging")
    limit = paging.get("limit", MAX_PAGE)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise validation_error("search.cursorPaging.limit", f"must be 1 to {MAX_PAGE}")
    cursor = paging.get("cursor")
    offset = 0
    if cursor is not None:
        if "filter" in search or "sort" in search:
            raise validation_error(
                "search.cursorPaging.cursor",
                "a cursor carries its query: send it without filter or sort",
            )
        search, offset = _from_cursor(cursor)
    query_filter = json_object(search.get("filter", {}), "search.filter")
    sort_spec = search.get("sort") or [dict(DEFAULT_SORT)]  # kept in the cursor as applied
    sort = _sort(sort_spec)
    _check(query_filter, "filter")
    found = [
        order
        for order in orders
        if order.get("status") != "INITIALIZED" and _matches(order, query_filter, "filter")
    ]
    for field, descending in reversed(sort):
        found.sort(key=lambda order: _sort_key(order, field), reverse=descending)
    page = found[offset : offset + limit]
    more = offset + limit < len(found)
    query = {"filter": dict(query_filter), "sort": sort_spec}
    return {
        "orders": [dict(order) for order in page],
        "metadata": {
            "count": len(page),
            "cursors": {
                "next": _to_cursor(query, offset + limit) if more else None,
                "prev": _to_cursor(query, max(offset - limit, 0)) if offset else None,
            },
            "hasNext": more,
        },
    }


def _matches(order: Mapping[str, Any], query: Mapping[str, Any], where: str) -> bool:
    for key, condition in query.items():
        if key == "$and":
            if not all(
                _matches(order, json_object(q, where), where) for q in _list(condition, key)
            ):
                return False
        elif key == "$or":
            if not any(
                _matches(order, json_object(q, where), where) for q in _list(condition, key)
            ):
                return False
        elif key == "$not":
            if _matches(order, json_object(condition, where), where):
                return False
        elif not _field_matches(order, key, condition, f"{where}.{key}"):
            return False
    return True


def _check(query: Mapping[str, Any], where: str) -> None:
    """Refuse what Wix refuses, whether or not any order would meet it."""
    for key, condition in query.items():
        if key in ("$and", "$or"):
            for each in _list(condition, key):
                _check(json_object(each, where), where)
        elif key == "$not":
            _check(json_object(condition, where), where)
        else:
            _field_matches({}, key, condition, f"{where}.{key}", evaluate=False)


def _field_matches(
    order: Mapping[str, Any], field: str, condition: object, where: str, *, evaluate: bool = True
) -> bool:
    operators = FIELD_OPERATORS.get(field)
    if operators is None:
        raise validation_error(where, "this field cannot be filtered on")
    if not isinstance(condition, Mapping):
        condition = {"$eq": condition}
    value = _comparable(field, order.get(field))
    for operator, operand in condition.items():
        if operator not in operators:
            raise validation_error(where, f"{operator} is not supported on {field}")
        if operator in _LISTS:
            wanted: object = [_operand(field, each, where) for each in _list(operand, where)]
        else:
            wanted = _operand(field, operand, where)
        if evaluate and not _COMPARE[operator](value, wanted):
            return False
    return True


def _comparable(field: str, value: object) -> object:
    """Dates compare as instants (``...00Z`` and ``...00.000Z`` are one moment) and order
    numbers as numbers (Wix writes them as strings); anything unreadable as None."""
    if value is None:
        return None
    if field in _DATES:
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if field == "number":
        try:
            return int(str(value))
        except ValueError:
            return None
    return value


def _operand(field: str, operand: object, where: str) -> object:
    if field not in _DATES and field != "number":
        return operand
    value = _comparable(field, operand)
    if value is None or isinstance(operand, bool):
        kind = "an ISO 8601 date-time" if field in _DATES else "an order number"
        raise validation_error(where, f"must be {kind}")
    return value


def _sort_key(order: Mapping[str, Any], field: str) -> tuple[bool, Any]:
    value = _comparable(field, order.get(field))
    return value is None, value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise validation_error(where, "must be a list")
    return value


def _sort(value: object) -> list[tuple[str, bool]]:
    order: list[tuple[str, bool]] = []
    for index, entry in enumerate(_list(value, "search.sort")):
        entry = json_object(entry, f"search.sort[{index}]")
        field, direction = entry.get("fieldName"), entry.get("order", "ASC")
        if field not in SORTABLE or direction not in ("ASC", "DESC"):
            raise validation_error(f"search.sort[{index}]", "unsupported field or order")
        order.append((str(field), direction == "DESC"))
    return order


def _to_cursor(query: Mapping[str, Any], offset: int) -> str:
    raw = json.dumps({"query": query, "offset": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _from_cursor(cursor: object) -> tuple[Mapping[str, Any], int]:
    try:
        state = json.loads(base64.urlsafe_b64decode(str(cursor).encode()))
        return json_object(state["query"], "cursor"), int(state["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise validation_error(
            "search.cursorPaging.cursor", "not a cursor this API gave"
        ) from error
