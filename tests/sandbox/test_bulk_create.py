"""Bulk create: 1 to 100 orders, each succeeding or failing on its own, in Wix's result shape."""

from __future__ import annotations

from typing import Any

import pytest

from infra.wix_sandbox import SandboxClient, WixSandbox
from tests.sandbox.tracking import new_fedex
from tests.support.sandbox import access_token
from tests.support.wix_http import WixHttp, line


def generated(control: SandboxClient, site: str, **spec: Any) -> str:
    order_id: str = control.create_order(site, generate={"kind": "physical", **spec})["id"]
    return order_id


def entry(order_id: str, *fulfillments: dict[str, Any]) -> dict[str, Any]:
    return {"orderId": order_id, "fulfillments": list(fulfillments)}


def shipment(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"lineItems": list(lines), "trackingInfo": new_fedex()}


def test_bulk_create_answers_each_order_in_wixs_result_shape(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    first, second = generated(control, site), generated(control, site, lineItems=2)

    answer = wix.bulk_create(
        token,
        [entry(first, shipment(line(1))), entry(second, shipment(line(1)), shipment(line(2)))],
    )

    assert answer.status == 200
    assert answer.body["bulkActionMetadata"] == {
        "totalSuccesses": 2,
        "totalFailures": 0,
        "undetailedFailures": 0,
    }
    results = answer.body["results"]
    assert [result["itemMetadata"] for result in results] == [
        {"id": first, "originalIndex": 0, "success": True},
        {"id": second, "originalIndex": 1, "success": True},
    ]
    assert results[1]["ordersWithFulfillments"]["orderId"] == second
    assert len(results[1]["ordersWithFulfillments"]["fulfillments"]) == 2
    assert control.order(second)["order"]["fulfillmentStatus"] == "FULFILLED"
    assert control.stats()["fulfillmentsCreated"] == 3


def test_one_orders_error_does_not_stop_the_others(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str, token: str
) -> None:
    fine, over, canceled, later = (generated(control, site, quantity=2) for _ in range(4))
    control.set_order_status(canceled, "CANCELED")
    strangers = generated(control, control.create_site())
    unknown = "11111111-2222-4333-8444-555555555555"

    answer = wix.bulk_create(
        token,
        [
            entry(fine, shipment(line(1, 2))),
            entry(over, shipment(line(1, 2)), shipment(line(1, 1))),
            entry(canceled, shipment(line(1))),
            entry(strangers, shipment(line(1))),
            entry(unknown, shipment(line(1))),
            {"orderId": "not-a-guid", "fulfillments": [shipment(line(1))]},
            entry(later, shipment(line(7))),
            entry(later, shipment(line(1, 1))),
        ],
    )

    assert answer.status == 200
    metadata = [result["itemMetadata"] for result in answer.body["results"]]
    assert [item["success"] for item in metadata] == [
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    assert [item["originalIndex"] for item in metadata] == list(range(8))
    assert [item.get("error", {}).get("code") for item in metadata] == [
        None,
        "FULFILLMENT_QUANTITY_EXCEEDED",
        "ORDER_NOT_APPROVED",
        "ORDER_NOT_FOUND",
        "ORDER_NOT_FOUND",
        "INVALID_ARGUMENT",
        "LINE_ITEM_NOT_FOUND",
        None,
    ]
    assert all(item["error"]["description"] for item in metadata if not item["success"])
    assert "ordersWithFulfillments" not in answer.body["results"][1]
    assert answer.body["bulkActionMetadata"]["totalSuccesses"] == 2
    assert answer.body["bulkActionMetadata"]["totalFailures"] == 6
    assert control.order(over)["fulfillments"] == []
    assert control.order(strangers)["fulfillments"] == []
    assert control.stats()["rejectedOverFulfillments"] == 1


@pytest.mark.parametrize("count", [0, 101])
def test_bulk_create_takes_1_to_100_orders(wix: WixHttp, token: str, count: int) -> None:
    answer = wix.bulk_create(token, [entry("11111111-2222-4333-8444-555555555555")] * count)

    assert answer.status == 400
    assert answer.violated_fields == ["ordersWithFulfillments"]


def test_bulk_create_takes_100_orders(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    orders = control.create_orders(site, generate={"count": 100})["orders"]

    answer = wix.bulk_create(token, [entry(order["id"], shipment(line(1))) for order in orders])

    assert answer.body["bulkActionMetadata"]["totalSuccesses"] == 100


def test_bulk_create_needs_a_token_of_the_orders_instance(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str
) -> None:
    order_id = generated(control, site)

    unauthenticated = wix.call(
        "POST",
        "/ecom/v1/fulfillments/orders/bulk/create-fulfillments",
        {"ordersWithFulfillments": [entry(order_id, shipment(line(1)))]},
    )

    assert unauthenticated.status == 401
    assert access_token(wix, sandbox, site)
