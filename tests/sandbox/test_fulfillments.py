"""The Order Fulfillments API: Wix's paths and shapes, and every rule it enforces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from infra.samples.dev_data import sample_flow_order
from infra.wix_sandbox import SandboxClient, WixSandbox
from tests.sandbox.tracking import new_fedex
from tests.support.sandbox import (
    FIRST_LINE_ITEM,
    SAMPLE_FLOW_ORDER_ID,
    access_token,
)
from tests.support.wix_http import FULFILLMENTS, WixHttp, fedex, line

UNKNOWN_ORDER_ID = "11111111-2222-4333-8444-555555555555"


def physical_order(
    control: SandboxClient, site: str, line_items: int = 2, quantity: int = 3
) -> str:
    order_id: str = control.create_order(
        site, generate={"kind": "physical", "lineItems": line_items, "quantity": quantity}
    )["id"]
    return order_id


def fulfillments_of(control: SandboxClient, order_id: str) -> list[dict[str, Any]]:
    fulfillments: list[dict[str, Any]] = control.order(order_id)["fulfillments"]
    return fulfillments


def status_of(control: SandboxClient, order_id: str) -> str:
    status: str = control.order(order_id)["order"]["fulfillmentStatus"]
    return status


def test_the_sample_flow_creates_a_fulfillment_with_fedexs_tracking_link(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    control.create_order(site, order=sample_flow_order())

    answer = wix.create(
        token, SAMPLE_FLOW_ORDER_ID, {"lineItems": [line(1, 1)], "trackingInfo": fedex("12345")}
    )

    assert answer.status == 200
    assert set(answer.body) == {"orderWithFulfillments", "fulfillmentId"}
    with_fulfillments = answer.body["orderWithFulfillments"]
    assert with_fulfillments["orderId"] == SAMPLE_FLOW_ORDER_ID
    [fulfillment] = with_fulfillments["fulfillments"]
    assert fulfillment["id"] == answer.body["fulfillmentId"]
    datetime.fromisoformat(fulfillment["createdDate"])
    assert fulfillment["lineItems"] == [{"id": FIRST_LINE_ITEM, "quantity": 1}]
    assert fulfillment["trackingInfo"] == {
        "trackingNumber": "12345",
        "shippingProvider": "fedex",
        "trackingLink": "https://www.fedex.com/apps/fedextrack/?action=track&trackingnumber=12345",
    }
    assert wix.list_one(token, SAMPLE_FLOW_ORDER_ID).body == {
        "orderWithFulfillments": with_fulfillments
    }
    assert status_of(control, SAMPLE_FLOW_ORDER_ID) == "FULFILLED"


def test_the_order_id_the_sdk_also_puts_in_the_body_is_accepted(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)

    answer = wix.call(
        "POST",
        f"{FULFILLMENTS}/orders/{order_id}/create-fulfillment",
        {
            "orderId": order_id,
            "fulfillment": {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()},
        },
        token=token,
    )

    assert answer.status == 200


@pytest.mark.parametrize(
    ("provider", "link"),
    [
        ("ups", "https://www.ups.com/track?tracknum=1Z999"),
        ("usps", "https://tools.usps.com/go/TrackConfirmAction?tLabels=1Z999"),
        ("dhl", "https://www.dhl.com/en/express/tracking.html?AWB=1Z999&brand=DHL"),
        (
            "canadaPost",
            "https://www.canadapost-postescanada.ca/track-reperez/en#/search?searchFor=1Z999",
        ),
    ],
)
def test_wix_fills_in_the_tracking_link_of_the_carriers_it_knows(
    wix: WixHttp, control: SandboxClient, site: str, token: str, provider: str, link: str
) -> None:
    order_id = physical_order(control, site)

    answer = wix.create(
        token,
        order_id,
        {
            "lineItems": [line(1, 1)],
            "trackingInfo": {"trackingNumber": "1Z999", "shippingProvider": provider},
        },
    )

    assert answer.status == 200
    assert (
        answer.body["orderWithFulfillments"]["fulfillments"][0]["trackingInfo"]["trackingLink"]
        == link
    )


def test_another_provider_needs_a_tracking_link(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)
    tracking = {"trackingNumber": "AB123", "shippingProvider": "Royal Mail"}

    refused = wix.create(token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": tracking})
    accepted = wix.create(
        token,
        order_id,
        {
            "lineItems": [line(1, 1)],
            "trackingInfo": {**tracking, "trackingLink": "https://track.example.com/AB123"},
        },
    )

    assert refused.status == 400
    assert refused.violated_fields == ["fulfillment.trackingInfo.trackingLink"]
    assert accepted.status == 200
    assert len(fulfillments_of(control, order_id)) == 1


@pytest.mark.parametrize(
    ("tracking", "field"),
    [
        ({"trackingNumber": "", "shippingProvider": "fedex"}, "trackingNumber"),
        ({"trackingNumber": "1" * 101, "shippingProvider": "fedex"}, "trackingNumber"),
        ({"shippingProvider": "fedex"}, "trackingNumber"),
        ({"trackingNumber": "1", "shippingProvider": "x" * 101}, "shippingProvider"),
        ({"trackingNumber": "1", "shippingProvider": ""}, "shippingProvider"),
        (
            {"trackingNumber": "1", "shippingProvider": "o", "trackingLink": "not a url"},
            "trackingLink",
        ),
        (
            {"trackingNumber": "1", "shippingProvider": "o", "trackingLink": "ftp://x/1"},
            "trackingLink",
        ),
    ],
)
def test_tracking_info_limits_are_enforced(
    wix: WixHttp,
    control: SandboxClient,
    site: str,
    token: str,
    tracking: dict[str, str],
    field: str,
) -> None:
    order_id = physical_order(control, site)

    answer = wix.create(token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": tracking})

    assert answer.status == 400
    assert answer.violated_fields == [f"fulfillment.trackingInfo.{field}"]
    assert fulfillments_of(control, order_id) == []


def test_a_tracking_number_of_100_characters_is_accepted(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)

    answer = wix.create(
        token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": fedex("9" * 100)}
    )

    assert answer.status == 200


def test_custom_info_instead_of_tracking_info(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)
    custom = {"fieldsData": {"courier": "bike"}}

    both = wix.create(
        token,
        order_id,
        {"lineItems": [line(1, 1)], "trackingInfo": new_fedex(), "customInfo": custom},
    )
    custom_only = wix.create(token, order_id, {"lineItems": [line(1, 1)], "customInfo": custom})

    assert both.status == 400
    assert custom_only.status == 200
    [fulfillment] = custom_only.body["orderWithFulfillments"]["fulfillments"]
    assert fulfillment["customInfo"] == custom
    assert "trackingInfo" not in fulfillment


def test_a_missing_token_is_401(wix: WixHttp, control: SandboxClient, site: str) -> None:
    order_id = physical_order(control, site)

    answer = wix.call("GET", f"{FULFILLMENTS}/orders/{order_id}")

    assert answer.status == 401
    assert answer.error_code == "UNAUTHENTICATED"


def test_a_bearer_prefixed_token_is_refused_wix_takes_the_raw_token(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)

    answer = wix.call(
        "GET", f"{FULFILLMENTS}/orders/{order_id}", headers={"Authorization": f"Bearer {token}"}
    )

    assert answer.status == 401
    assert "without a 'Bearer' prefix" in answer.body["message"]
    assert wix.list_one(token, order_id).status == 200


def test_an_unknown_token_is_401(wix: WixHttp, control: SandboxClient, site: str) -> None:
    order_id = physical_order(control, site)

    assert wix.list_one("OauthNG.JWS.forged", order_id).status == 401


def test_another_instances_token_neither_sees_nor_touches_the_order(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)
    created = wix.create(token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()})
    fulfillment_id = created.body["fulfillmentId"]
    before = control.order(order_id)
    stranger = access_token(wix, sandbox, control.create_site())

    answers = [
        wix.list_one(stranger, order_id),
        wix.create(stranger, order_id, {"lineItems": [line(2, 1)], "trackingInfo": new_fedex()}),
        wix.update(stranger, order_id, fulfillment_id, {"trackingInfo": fedex("666")}),
        wix.delete(stranger, order_id, fulfillment_id),
    ]

    assert [answer.status for answer in answers] == [404] * 4
    assert {answer.error_code for answer in answers} == {"ORDER_NOT_FOUND"}
    assert wix.list_by_ids(stranger, [order_id]).body == {"ordersWithFulfillments": []}
    assert control.order(order_id) == before


def test_an_unknown_order_is_404_and_a_malformed_id_400(wix: WixHttp, token: str) -> None:
    assert wix.list_one(token, UNKNOWN_ORDER_ID).status == 404
    assert wix.list_one(token, UNKNOWN_ORDER_ID).error_code == "ORDER_NOT_FOUND"
    assert wix.list_one(token, "not-a-guid").violated_fields == ["orderId"]


def test_over_fulfillment_is_refused_and_changes_nothing(
    wix: WixHttp, sandbox: WixSandbox, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site, quantity=3)
    wix.create(token, order_id, {"lineItems": [line(1, 2)], "trackingInfo": new_fedex()})
    before = control.order(order_id)

    answer = wix.create(
        token, order_id, {"lineItems": [line(2, 1), line(1, 2)], "trackingInfo": new_fedex()}
    )

    assert answer.status == 400
    assert answer.error_code == "FULFILLMENT_QUANTITY_EXCEEDED"
    assert control.order(order_id) == before
    assert control.stats()["rejectedOverFulfillments"] == 1
    assert control.stats()["fulfillmentsCreated"] == 1


def test_an_omitted_quantity_means_all_that_remains(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site, line_items=1, quantity=5)
    wix.create(token, order_id, {"lineItems": [line(1, 2)], "trackingInfo": new_fedex()})

    rest = wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()})
    nothing_left = wix.create(
        token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()}
    )

    assert rest.body["orderWithFulfillments"]["fulfillments"][1]["lineItems"] == [
        {"id": FIRST_LINE_ITEM, "quantity": 3}
    ]
    assert nothing_left.status == 400
    assert nothing_left.error_code == "FULFILLMENT_QUANTITY_EXCEEDED"


@pytest.mark.parametrize("quantity", [0, -1, 100_001, 1.5, "1", True])
def test_a_quantity_outside_1_to_100000_is_a_validation_error(
    wix: WixHttp, control: SandboxClient, site: str, token: str, quantity: object
) -> None:
    order_id = physical_order(control, site)

    answer = wix.create(
        token,
        order_id,
        {"lineItems": [{"id": FIRST_LINE_ITEM, "quantity": quantity}], "trackingInfo": new_fedex()},
    )

    assert answer.status == 400
    assert answer.violated_fields == ["fulfillment.lineItems[0].quantity"]


def test_line_items_must_belong_to_the_order(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site, line_items=2)

    answer = wix.create(
        token, order_id, {"lineItems": [line(1, 1), line(3, 1)], "trackingInfo": new_fedex()}
    )

    assert answer.status == 400
    assert answer.error_code == "LINE_ITEM_NOT_FOUND"
    assert fulfillments_of(control, order_id) == []


def test_a_fulfillment_has_1_to_300_line_items_each_listed_once(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site, line_items=301, quantity=1)

    too_many = wix.create(
        token,
        order_id,
        {"lineItems": [line(n) for n in range(1, 302)], "trackingInfo": new_fedex()},
    )
    none = wix.create(token, order_id, {"lineItems": [], "trackingInfo": new_fedex()})
    twice = wix.create(
        token, order_id, {"lineItems": [line(1), line(1)], "trackingInfo": new_fedex()}
    )
    most = wix.create(
        token,
        order_id,
        {"lineItems": [line(n) for n in range(1, 301)], "trackingInfo": new_fedex()},
    )

    assert too_many.violated_fields == ["fulfillment.lineItems"]
    assert none.violated_fields == ["fulfillment.lineItems"]
    assert twice.violated_fields == ["fulfillment.lineItems[1].id"]
    assert most.status == 200
    assert status_of(control, order_id) == "PARTIALLY_FULFILLED"


@pytest.mark.parametrize("status", ["CANCELED", "INITIALIZED"])
def test_only_approved_orders_get_fulfillments(
    wix: WixHttp, control: SandboxClient, site: str, token: str, status: str
) -> None:
    order_id = physical_order(control, site)
    control.set_order_status(order_id, status)

    answer = wix.create(token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()})

    assert answer.status == 400
    assert answer.error_code == "ORDER_NOT_APPROVED"
    assert fulfillments_of(control, order_id) == []
    assert wix.list_one(token, order_id).status == 200


def test_a_tracking_number_the_order_already_has_is_wixs_409_and_creates_nothing(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = control.create_order(site, generate={"kind": "physical", "lineItems": 2})["id"]
    other_id = physical_order(control, site)
    label = fedex("777000111")
    first = wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": label})

    again = wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": label})
    other_lines = wix.create(token, order_id, {"lineItems": [line(2)], "trackingInfo": label})
    bulk = wix.bulk_create(
        token,
        [
            {
                "orderId": order_id,
                "fulfillments": [{"lineItems": [line(2)], "trackingInfo": label}],
            },
            {
                "orderId": other_id,
                "fulfillments": [{"lineItems": [line(1)], "trackingInfo": label}],
            },
        ],
    )

    assert first.status == 200
    for answer in (again, other_lines):
        assert (answer.status, answer.error_code) == (409, "TRACKING_NUMBER_ALREADY_EXISTS")
    refused, accepted = (result["itemMetadata"] for result in bulk.body["results"])
    assert refused["error"]["code"] == "TRACKING_NUMBER_ALREADY_EXISTS"
    assert accepted["success"] is True  # another order may carry the same number
    assert len(fulfillments_of(control, order_id)) == 1


def test_a_create_beyond_the_remaining_quantity_stays_a_400_with_a_new_number(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)
    wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()})

    beyond = wix.create(token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()})

    assert (beyond.status, beyond.error_code) == (400, "FULFILLMENT_QUANTITY_EXCEEDED")


def test_the_fulfillment_status_follows_the_shippable_quantities(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site, line_items=2, quantity=2)
    statuses = [status_of(control, order_id)]

    for item, quantity in ((1, 1), (1, 1), (2, 2)):
        answer = wix.create(
            token, order_id, {"lineItems": [line(item, quantity)], "trackingInfo": new_fedex()}
        )
        assert answer.status == 200
        statuses.append(status_of(control, order_id))

    assert statuses == ["NOT_FULFILLED", "PARTIALLY_FULFILLED", "PARTIALLY_FULFILLED", "FULFILLED"]


def test_digital_line_items_do_not_hold_back_the_fulfillment_status(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    mixed = control.create_order(site, generate={"kind": "mixed", "lineItems": 2, "quantity": 1})
    digital = control.create_order(site, generate={"kind": "digital", "lineItems": 3})

    answer = wix.create(token, mixed["id"], {"lineItems": [line(1)], "trackingInfo": new_fedex()})

    assert mixed["fulfillmentStatus"] == "NOT_FULFILLED"
    assert answer.status == 200
    assert status_of(control, mixed["id"]) == "FULFILLED"
    assert digital["fulfillmentStatus"] == "FULFILLED"


def test_update_changes_the_tracking_info_but_not_the_line_items(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)
    created = wix.create(token, order_id, {"lineItems": [line(1, 1)], "trackingInfo": fedex("1")})
    fulfillment_id = created.body["fulfillmentId"]

    updated = wix.update(
        token,
        order_id,
        fulfillment_id,
        {"trackingInfo": {"trackingNumber": "2", "shippingProvider": "ups"}},
    )
    moved = wix.update(token, order_id, fulfillment_id, {"lineItems": [line(2, 1)]})
    not_a_list = wix.update(token, order_id, fulfillment_id, {"lineItems": 3})
    unknown = wix.update(token, order_id, UNKNOWN_ORDER_ID, {"trackingInfo": new_fedex()})

    assert updated.status == 200
    [fulfillment] = updated.body["orderWithFulfillments"]["fulfillments"]
    assert fulfillment["id"] == fulfillment_id
    assert fulfillment["trackingInfo"] == {
        "trackingNumber": "2",
        "shippingProvider": "ups",
        "trackingLink": "https://www.ups.com/track?tracknum=2",
    }
    assert moved.violated_fields == ["fulfillment.lineItems"]
    assert (not_a_list.status, not_a_list.violated_fields) == (400, ["fulfillment.lineItems"])
    assert unknown.status == 404
    assert unknown.error_code == "FULFILLMENT_NOT_FOUND"
    assert fulfillments_of(control, order_id) == [fulfillment]


def test_delete_removes_the_fulfillment_and_recomputes_the_status(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site, line_items=1, quantity=1)
    created = wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()})
    assert status_of(control, order_id) == "FULFILLED"

    deleted = wix.delete(token, order_id, created.body["fulfillmentId"])
    again = wix.delete(token, order_id, created.body["fulfillmentId"])

    assert deleted.status == 200
    assert deleted.body == {"orderWithFulfillments": {"orderId": order_id, "fulfillments": []}}
    assert status_of(control, order_id) == "NOT_FULFILLED"
    assert again.status == 404
    assert (
        wix.create(token, order_id, {"lineItems": [line(1)], "trackingInfo": new_fedex()}).status
        == 200
    )


def test_list_by_ids_answers_the_callers_orders_with_their_fulfillments(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    first, second = physical_order(control, site), physical_order(control, site)
    wix.create(token, first, {"lineItems": [line(1, 1)], "trackingInfo": new_fedex()})

    answer = wix.list_by_ids(token, [first, second, UNKNOWN_ORDER_ID, first])

    assert answer.status == 200
    assert [entry["orderId"] for entry in answer.body["ordersWithFulfillments"]] == [first, second]
    assert len(answer.body["ordersWithFulfillments"][0]["fulfillments"]) == 1
    assert answer.body["ordersWithFulfillments"][1]["fulfillments"] == []


@pytest.mark.parametrize("count", [0, 101])
def test_list_by_ids_takes_1_to_100_ids(wix: WixHttp, token: str, count: int) -> None:
    answer = wix.list_by_ids(token, [UNKNOWN_ORDER_ID] * count)

    assert answer.status == 400
    assert answer.violated_fields == ["orderIds"]


def test_list_by_ids_takes_100_ids(wix: WixHttp, token: str) -> None:
    assert wix.list_by_ids(token, [UNKNOWN_ORDER_ID] * 100).status == 200


def test_malformed_bodies_are_validation_errors(
    wix: WixHttp, control: SandboxClient, site: str, token: str
) -> None:
    order_id = physical_order(control, site)
    path = f"{FULFILLMENTS}/orders/{order_id}/create-fulfillment"

    not_json = wix.pool.request(
        "POST", wix.base_url + path, body=b"{", headers={"Authorization": token}
    )
    no_fulfillment = wix.call("POST", path, {"lineItems": [line(1, 1)]}, token=token)

    assert not_json.status == 400
    assert no_fulfillment.violated_fields == ["fulfillment"]


def test_unknown_paths_are_404(wix: WixHttp, token: str) -> None:
    assert wix.call("GET", "/ecom/v1/orders", token=token).status == 404
    assert wix.call("PUT", f"{FULFILLMENTS}/list-by-ids", token=token).status == 404
