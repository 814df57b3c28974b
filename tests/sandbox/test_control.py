"""The control API: sites, orders (given or generated), inspection, statistics, reset."""

from __future__ import annotations

import pytest
import urllib3

from infra.samples.dev_data import sample_flow_order, seed_envelope
from infra.wix_sandbox import SandboxClient, WixSandbox
from tests.sandbox.tracking import new_fedex
from tests.support.sandbox import FIRST_LINE_ITEM, SAMPLE_FLOW_ORDER_ID, access_token
from tests.support.webhooks import SEED_ORDER_ID
from tests.support.wix_http import WixHttp, fedex, line


def test_wixs_example_order_is_stored_as_given(control: SandboxClient, site: str) -> None:
    seed_order = seed_envelope()["actionEvent"]["body"]["order"]

    stored = control.create_order(site, order=seed_order)

    assert stored == seed_order
    view = control.order(SEED_ORDER_ID)
    assert view == {"instanceId": site, "order": seed_order, "fulfillments": []}
    assert view["order"]["fulfillmentStatus"] == "FULFILLED"


def test_the_fulfillment_status_of_a_given_order_is_recomputed(
    control: SandboxClient, site: str
) -> None:
    stored = control.create_order(
        site, order={**sample_flow_order(), "fulfillmentStatus": "FULFILLED"}
    )

    assert stored["fulfillmentStatus"] == "NOT_FULFILLED"


@pytest.mark.parametrize(
    ("kind", "line_items", "shippable", "status"),
    [
        ("physical", 2, [True, True], "NOT_FULFILLED"),
        ("digital", 2, [False, False], "FULFILLED"),
        ("mixed", 3, [True, False, True], "NOT_FULFILLED"),
    ],
)
def test_generated_orders_are_wix_orders_of_their_kind(
    control: SandboxClient,
    site: str,
    kind: str,
    line_items: int,
    shippable: list[bool],
    status: str,
) -> None:
    order = control.create_order(
        site, generate={"kind": kind, "lineItems": line_items, "quantity": 4}
    )

    assert order["status"] == "APPROVED"
    assert order["fulfillmentStatus"] == status
    assert [item["physicalProperties"]["shippable"] for item in order["lineItems"]] == shippable
    assert [item["itemType"]["preset"] for item in order["lineItems"]] == [
        "PHYSICAL" if ships else "DIGITAL" for ships in shippable
    ]
    assert {item["quantity"] for item in order["lineItems"]} == {4}
    assert order["lineItems"][0]["id"] == FIRST_LINE_ITEM
    assert ("shippingInfo" in order) == any(shippable)


def test_many_orders_with_many_line_items_can_be_generated(
    control: SandboxClient, site: str
) -> None:
    orders = control.create_orders(site, generate={"count": 3, "lineItems": 300})["orders"]

    assert len({order["id"] for order in orders}) == 3
    assert len({order["number"] for order in orders}) == 3
    assert all(len(order["lineItems"]) == 300 for order in orders)
    assert len(control.orders(site)) == 3


def test_an_order_can_start_partly_fulfilled(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order = control.create_order(
        site, generate={"lineItems": 2, "quantity": 3}, prefulfilled=[line(1, 2)]
    )

    assert order["fulfillmentStatus"] == "PARTIALLY_FULFILLED"
    [existing] = wix.list_one(token, order["id"]).body["orderWithFulfillments"]["fulfillments"]
    assert existing["lineItems"] == [{"id": FIRST_LINE_ITEM, "quantity": 2}]
    over = wix.create(token, order["id"], {"lineItems": [line(1, 2)], "trackingInfo": new_fedex()})
    assert over.status == 400


@pytest.mark.parametrize(
    "body",
    [
        {"order": {**sample_flow_order(), "lineItems": []}},
        {"order": {**sample_flow_order(), "id": "880"}},
        {"order": {**sample_flow_order(), "status": "SHIPPED"}},
        {"order": sample_flow_order(), "generate": {}},
        {},
        {"generate": {"kind": "furniture"}},
        {"generate": {"kind": "mixed", "lineItems": 1}},
        {"generate": {"quantity": 0}},
        {"generate": {}, "prefulfilled": [line(1, 2)]},
        {"generate": {"count": 2}, "eventId": SAMPLE_FLOW_ORDER_ID},
        {"generate": {}, "delivery": {"copies": 0}},
    ],
)
def test_malformed_orders_are_refused(wix: WixHttp, site: str, body: dict[str, object]) -> None:
    answer = wix.call("POST", "/_sandbox/orders", {"instanceId": site, **body})

    assert answer.status == 400, answer.body


def test_an_order_belongs_to_an_existing_site_and_its_id_is_unique(
    wix: WixHttp, control: SandboxClient, site: str
) -> None:
    control.create_order(site, order=sample_flow_order())

    again = wix.call("POST", "/_sandbox/orders", {"instanceId": site, "order": sample_flow_order()})
    no_site = wix.call(
        "POST",
        "/_sandbox/orders",
        {"instanceId": "0d1b2c3d-4e5f-4a6b-8c7d-000000000000", "generate": {}},
    )

    assert again.status == 409
    assert no_site.status == 404


def test_sites_are_created_with_a_given_or_a_new_instance_id(
    wix: WixHttp, control: SandboxClient
) -> None:
    given = control.create_site("6a1f3c9e-2b7d-4e58-9c0a-1d2e3f4a5b6c")
    new = control.create_site()

    assert wix.call("POST", "/_sandbox/sites", {"instanceId": given}).status == 409
    assert wix.call("POST", "/_sandbox/sites", {"instanceId": "nope"}).status == 400
    assert wix.call("GET", "/_sandbox/sites").body == {"instanceIds": sorted([given, new])}


def test_an_unknown_order_is_404_in_the_control_api(wix: WixHttp) -> None:
    assert wix.call("GET", f"/_sandbox/orders/{SAMPLE_FLOW_ORDER_ID}").status == 404


def test_the_stats_count_calls_per_endpoint_and_status(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = control.create_order(site, generate={})["id"]
    wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()})
    wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()})
    wix.list_one("not a token", order_id)

    stats = control.stats()

    assert stats["calls"] == {
        "token": {"200": 1},
        "create": {"200": 1, "400": 1},
        "list": {"401": 1},
    }
    assert stats["fulfillmentsCreated"] == 1
    assert stats["rejectedOverFulfillments"] == 1


def test_the_stats_count_each_sites_calls_to_wixs_api(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str, token: str
) -> None:
    other = control.create_site()
    other_token = access_token(wix, sandbox, other)
    order_id = control.create_order(site, generate={"quantity": 3})["id"]
    shipment = {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()}
    fulfillment_id = wix.create(token, order_id, shipment).body["fulfillmentId"]
    wix.bulk_create(token, [{"orderId": order_id, "fulfillments": [shipment]}])
    wix.update(token, order_id, fulfillment_id, {"trackingInfo": fedex("2")})
    wix.delete(token, order_id, fulfillment_id)
    wix.list_by_ids(token, [order_id])
    wix.list_one(other_token, order_id)  # another site's order: 404, but a call for that site
    control.set_faults({"list": {"dropRate": 1.0}})
    with pytest.raises(urllib3.exceptions.ProtocolError):
        wix.list_one(other_token, order_id)
    control.clear_faults()
    control.expire_tokens(other)
    wix.list_by_ids(other_token, [order_id])  # expired, still that site's token
    wix.list_one("not a token", order_id)
    wix.call("GET", f"/ecom/v1/fulfillments/orders/{order_id}")
    wix.call("POST", "/oauth2/token", {"grant_type": "client_credentials"})
    control.carrier_label({"instanceId": site, "orderId": order_id, "lineItems": [line(1, 1)]}, "a")

    by_instance = control.stats()["callsByInstance"]

    assert by_instance == {
        site: {"token": 1, "create": 1, "bulkCreate": 1, "update": 1, "delete": 1, "listByIds": 1},
        other: {"token": 1, "list": 2, "listByIds": 1},
        "unknown": {"list": 2, "token": 1},
    }
    control.reset()
    assert control.stats()["callsByInstance"] == {}


def test_reset_with_data_forgets_sites_orders_and_tokens(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = control.create_order(site, generate={})["id"]

    control.reset(data=True)

    assert control.stats()["calls"] == {}
    assert control.orders() == []
    assert wix.call("GET", "/_sandbox/sites").body == {"instanceIds": []}
    assert wix.list_one(token, order_id).status == 401


def test_the_public_key_is_served_as_pem(control: SandboxClient) -> None:
    pem = control.public_key_pem()

    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert control.health() == {"status": "ok", "appId": control.config()["appId"]}
