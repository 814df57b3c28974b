"""Search Orders: Wix's query language (filter, sort, cursor paging) over one site's orders, and
the order changes the worker must see (cancel, refunds, payment status)."""

from __future__ import annotations

from typing import Any

from infra.samples.dev_data import sample_flow_order
from infra.wix_sandbox import SandboxClient, WixSandbox
from tests.support.sandbox import MakeSandbox, access_token
from tests.support.wix_http import WixHttp

SEARCH = "/ecom/v1/orders/search"


def search(wix: WixHttp, token: str, query: dict[str, Any]) -> Any:
    answer = wix.call("POST", SEARCH, {"search": query}, token=token)
    assert answer.status == 200, answer.body
    return answer.body


def place(control: SandboxClient, site: str, count: int) -> list[str]:
    created = control.create_orders(
        site, deliver_webhook=False, generate={"kind": "physical", "count": count}
    )
    return [order["id"] for order in created["orders"]]


def test_ids_in_a_list_return_those_orders_of_the_calling_site_only(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    mine = place(control, site, 3)
    other_site = control.create_site()
    theirs = place(control, other_site, 1)
    token = access_token(wix, sandbox, site)

    body = search(wix, token, {"filter": {"id": {"$in": [mine[0], mine[2], *theirs]}}})

    assert sorted(order["id"] for order in body["orders"]) == sorted([mine[0], mine[2]])
    assert body["metadata"]["hasNext"] is False


def test_cursor_paging_walks_every_order_once_in_the_asked_order(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    placed = place(control, site, 7)
    token = access_token(wix, sandbox, site)
    query: dict[str, Any] = {
        "filter": {"status": "APPROVED"},
        "sort": [{"fieldName": "createdDate", "order": "ASC"}],
        "cursorPaging": {"limit": 3},
    }
    seen: list[dict[str, Any]] = []
    while True:
        body = search(wix, token, query)
        seen += body["orders"]
        cursor = body["metadata"]["cursors"]["next"]
        if not body["metadata"]["hasNext"]:
            break
        query = {"cursorPaging": {"limit": 3, "cursor": cursor}}

    assert sorted(order["id"] for order in seen) == sorted(placed)
    dates = [order["createdDate"] for order in seen]
    assert dates == sorted(dates)


def test_a_canceled_order_and_refunds_show_in_the_search(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    canceled, refunded = place(control, site, 2)
    line = control.order(refunded)["order"]["lineItems"][0]
    control.change_order(canceled, status="CANCELED")
    control.change_order(refunded, refunds={line["id"]: 1}, payment_status="PARTIALLY_REFUNDED")
    token = access_token(wix, sandbox, site)

    approved = search(wix, token, {"filter": {"status": {"$eq": "APPROVED"}}})["orders"]
    [order] = search(wix, token, {"filter": {"id": refunded}})["orders"]

    assert [o["id"] for o in approved] == [refunded]
    assert order["lineItems"][0]["refundQuantity"] == 1
    assert order["paymentStatus"] == "PARTIALLY_REFUNDED"


def test_an_unsupported_field_or_operator_is_a_400(
    sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    token = access_token(wix, sandbox, site)

    for query in (
        {"filter": {"buyerInfo.phone": "1"}},
        {"filter": {"updatedDate": {"$in": ["x"]}}},
        {"cursorPaging": {"limit": 101}},
        {"cursorPaging": {"cursor": "not-a-cursor"}},
    ):
        answer = wix.call("POST", SEARCH, {"search": query}, token=token)
        assert answer.status == 400, query


def test_get_order_answers_the_calling_sites_order_only(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    [mine] = place(control, site, 1)
    [theirs] = place(control, control.create_site(), 1)
    token = access_token(wix, sandbox, site)

    found = wix.call("GET", f"/ecom/v1/orders/{mine}", token=token)
    other = wix.call("GET", f"/ecom/v1/orders/{theirs}", token=token)
    malformed = wix.call("GET", "/ecom/v1/orders/not-a-guid", token=token)

    assert found.status == 200
    assert found.body["order"]["id"] == mine
    assert found.body["order"]["status"] == "APPROVED"
    assert (other.status, other.error_code) == (404, "ORDER_NOT_FOUND")
    assert malformed.status == 400


def test_dates_compare_as_instants_and_an_update_moves_an_order_into_a_window(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    before, after = place(control, site, 2)
    changed_at = control.change_order(after, payment_status="PAID")["updatedDate"]
    token = access_token(wix, sandbox, site)
    whole_second = changed_at[:19] + "Z"  # "...:05Z" is the same moment as "...:05.000Z"

    updated = search(wix, token, {"filter": {"updatedDate": {"$gte": changed_at}}})["orders"]
    created = search(wix, token, {"filter": {"createdDate": {"$gte": whole_second}}})["orders"]
    bad = wix.call(
        "POST", SEARCH, {"search": {"filter": {"updatedDate": {"$gt": "soon"}}}}, token=token
    )

    assert [order["id"] for order in updated] == [after]
    assert before not in [order["id"] for order in updated]
    assert len(created) <= 2
    assert bad.status == 400


def test_order_numbers_filter_and_sort_as_numbers(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    placed = place(control, site, 3)
    numbers = [int(control.order(order_id)["order"]["number"]) for order_id in placed]
    token = access_token(wix, sandbox, site)

    above = search(
        wix,
        token,
        {
            "filter": {"number": {"$gt": min(numbers)}},
            "sort": [{"fieldName": "number", "order": "DESC"}],
        },
    )["orders"]

    assert [int(order["number"]) for order in above] == sorted(numbers, reverse=True)[:2]


def test_a_cursor_goes_back_and_is_refused_beside_a_filter(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    place(control, site, 5)
    token = access_token(wix, sandbox, site)
    first = search(wix, token, {"cursorPaging": {"limit": 2}})
    second = search(
        wix, token, {"cursorPaging": {"limit": 2, "cursor": first["metadata"]["cursors"]["next"]}}
    )

    back = search(
        wix, token, {"cursorPaging": {"limit": 2, "cursor": second["metadata"]["cursors"]["prev"]}}
    )
    both = wix.call(
        "POST",
        SEARCH,
        {
            "search": {
                "filter": {"status": "APPROVED"},
                "cursorPaging": {"cursor": first["metadata"]["cursors"]["next"]},
            }
        },
        token=token,
    )

    assert first["metadata"]["cursors"]["prev"] is None
    assert [o["id"] for o in back["orders"]] == [o["id"] for o in first["orders"]]
    assert both.status == 400
    assert both.violated_fields == ["search.cursorPaging.cursor"]


def test_initialized_orders_are_never_returned(
    control: SandboxClient, sandbox: WixSandbox, wix: WixHttp, site: str
) -> None:
    control.create_orders(
        site, deliver_webhook=False, order=sample_flow_order() | {"status": "INITIALIZED"}
    )
    token = access_token(wix, sandbox, site)

    asked = search(wix, token, {"filter": {"status": "INITIALIZED"}})

    assert asked["orders"] == []


def test_order_reads_count_against_the_sites_rate_limit_and_in_its_stats(
    make_sandbox: MakeSandbox,
) -> None:
    sandbox = make_sandbox(rate_limit_per_minute=3)
    control, wix = sandbox.client(), WixHttp(sandbox.base_url)
    site = control.create_site()
    [order_id] = place(control, site, 1)
    token = access_token(wix, sandbox, site)

    answers = [
        wix.call("POST", SEARCH, {"search": {}}, token=token).status,
        wix.call("GET", f"/ecom/v1/orders/{order_id}", token=token).status,
        wix.call("POST", SEARCH, {"search": {}}, token=token).status,
        wix.call("GET", f"/ecom/v1/orders/{order_id}", token=token).status,
    ]

    assert answers == [200, 200, 200, 429]
    assert control.stats()["callsByInstance"][site] == {
        "token": 1,
        "searchOrders": 2,
        "getOrder": 2,
    }
