"""The carrier label endpoint: tracking info for an order, once per Idempotency-Key."""

from __future__ import annotations

from typing import Any

import pytest

from infra.wix_sandbox import SandboxClient, SandboxControlError
from tests.support.sandbox import MakeSandbox
from tests.support.wix_http import WixHttp

SHIPMENT: dict[str, Any] = {
    "instanceId": "0d1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "orderId": "e994ac9d-26b0-4f81-8047-00a2e964d6bf",
    "lineItems": [{"id": "00000000-0000-0000-0000-000000000001", "quantity": 1}],
}


def test_a_label_carries_tracking_info_wix_accepts(control: SandboxClient) -> None:
    label = control.carrier_label(SHIPMENT, "order-1")

    assert label["shippingProvider"] == "fedex"
    assert label["trackingNumber"].isdigit()
    assert len(label["trackingNumber"]) == 12
    assert label["trackingLink"] == (
        "https://www.fedex.com/apps/fedextrack/?action=track&trackingnumber="
        + label["trackingNumber"]
    )


def test_the_same_idempotency_key_returns_the_same_label(
    wix: WixHttp, control: SandboxClient
) -> None:
    first = wix.call("POST", "/_sandbox/carrier/labels", SHIPMENT, headers={"Idempotency-Key": "k"})
    again = wix.call("POST", "/_sandbox/carrier/labels", SHIPMENT, headers={"Idempotency-Key": "k"})
    other = control.carrier_label(SHIPMENT, "another key")

    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other["trackingNumber"] != first.body["trackingNumber"]
    stats = control.stats()
    assert stats["calls"]["carrier"] == {"201": 2, "200": 1}
    assert stats["carrierLabelsIssued"] == 2


def test_a_key_reused_for_another_shipment_is_refused(control: SandboxClient) -> None:
    control.carrier_label(SHIPMENT, "k")

    with pytest.raises(SandboxControlError) as refused:
        control.carrier_label({**SHIPMENT, "orderId": "another order"}, "k")

    assert refused.value.status == 422


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (SHIPMENT, {}),
        ({**SHIPMENT, "lineItems": []}, {"Idempotency-Key": "k"}),
        ({"orderId": "o", "lineItems": SHIPMENT["lineItems"]}, {"Idempotency-Key": "k"}),
    ],
    ids=["no key", "no line items", "no instance"],
)
def test_a_label_request_needs_a_key_and_an_order(
    wix: WixHttp, body: dict[str, Any], headers: dict[str, str]
) -> None:
    assert wix.call("POST", "/_sandbox/carrier/labels", body, headers=headers).status == 400


@pytest.mark.parametrize(
    ("provider", "number_length", "link_start"),
    [
        ("ups", 18, "https://www.ups.com/track?tracknum=1Z"),
        ("Royal Mail", 15, "https://tracking.example.com/Royal%20Mail/SBX"),
    ],
)
def test_the_provider_is_configurable(
    make_sandbox: MakeSandbox, provider: str, number_length: int, link_start: str
) -> None:
    label = make_sandbox(carrier_provider=provider).client().carrier_label(SHIPMENT, "k")

    assert label["shippingProvider"] == provider
    assert len(label["trackingNumber"]) == number_length
    assert label["trackingLink"].startswith(link_start)


def test_labels_are_the_same_from_run_to_run_for_a_seed(make_sandbox: MakeSandbox) -> None:
    def labels(seed: int) -> list[str]:
        control = make_sandbox(fault_seed=seed).client()
        return [control.carrier_label(SHIPMENT, f"k{n}")["trackingNumber"] for n in range(3)]

    assert labels(5) == labels(5) != labels(6)


def test_the_carrier_can_fail_like_an_outside_service(control: SandboxClient) -> None:
    control.set_faults({"carrier": {"errorRate": 1.0}})

    with pytest.raises(SandboxControlError) as refused:
        control.carrier_label(SHIPMENT, "k")

    assert refused.value.status == 500
