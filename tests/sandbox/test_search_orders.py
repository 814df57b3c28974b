"""Search Orders: Wix's query language (filter, sort, cursor paging) over one site's orders, and
the order changes the worker must see (cancel, refunds, payment status)."""

from __future__ import annotations

from typing import Any

from infra.wix_sandbox import SandboxClient, WixSandbox
from tests.support.sandbox import access_token
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
