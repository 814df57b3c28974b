"""Generated Wix orders (physical, digital, mixed, many line items) shaped like Wix's Order object:
paid or not, shipped or picked up, with lines of another fulfiller app if asked.

Buyer details are obviously fake (example.com); line item ids follow Wix's own pattern
``00000000-0000-0000-0000-000000000001``, counting up within an order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from infra.wix_sandbox.clock import iso_timestamp

MAX_GENERATED_LINE_ITEMS: Final = 1000
WIX_STORES_APP_ID: Final = "215238eb-22a5-4c36-9e7b-e7c08025e04e"
# The fulfiller (app) of another fulfiller's lines when none is given: a print-on-demand app, say.
OTHER_FULFILLER_ID: Final = "9c3f6a21-5b7e-4d08-a1c2-3e4f5a6b7c8d"


@dataclass(frozen=True, slots=True)
class OrderTraits:
    """What sets a generated order apart: ``other_fulfiller_lines`` of its first lines carry
    ``fulfiller_id`` (another app fulfills them); a pickup order has pickup details and no
    shipping address."""

    payment_status: str = "PAID"
    pickup: bool = False
    other_fulfiller_lines: int = 0
    fulfiller_id: str = OTHER_FULFILLER_ID


class OrderKind(StrEnum):
    PHYSICAL = "physical"
    DIGITAL = "digital"
    MIXED = "mixed"


def line_item_id(position: int) -> str:
    return f"00000000-0000-0000-0000-{position:012d}"


def generated_order(
    kind: OrderKind,
    line_items: int,
    quantity: int,
    number: int,
    traits: OrderTraits = OrderTraits(),
) -> dict[str, Any]:
    """An APPROVED order, paid unless told; a mixed order alternates physical and digital
    items."""
    now = iso_timestamp()
    items = [
        _line_item(position, quantity, _is_physical(kind, position))
        for position in range(1, line_items + 1)
    ]
    for item in items[: traits.other_fulfiller_lines]:
        item["fulfillerId"] = traits.fulfiller_id
    price_total = f"{10 * quantity * line_items:.2f}"
    order: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "number": str(number),
        "createdDate": now,
        "updatedDate": now,
        "lineItems": items,
        "buyerInfo": {
            "contactId": str(uuid.uuid4()),
            "email": "buyer@example.com",
        },
        "paymentStatus": traits.payment_status,
        "fulfillmentStatus": "NOT_FULFILLED",
        "buyerLanguage": "en",
        "weightUnit": "KG",
        "currency": "USD",
        "taxIncludedInPrices": False,
        "siteLanguage": "en",
        "priceSummary": {"total": _price(price_total), "subtotal": _price(price_total)},
        "status": "APPROVED",
        "archived": False,
        "channelInfo": {"type": "WEB"},
        "checkoutId": str(uuid.uuid4()),
        "cartId": str(uuid.uuid4()),
    }
    if traits.pickup:
        order["shippingInfo"] = {
            "title": "Pickup at the store",
            "logistics": {
                "pickupDetails": {
                    "address": {"country": "US", "city": "Springfield", "addressLine": "2 Shop St"},
                    "pickupMethod": "STORE_PICKUP",
                }
            },
            "cost": {"price": _price("0.00")},
        }
    elif any(item["physicalProperties"]["shippable"] for item in items):
        order["shippingInfo"] = {
            "title": "Standard Shipping",
            "logistics": {
                "shippingDestination": {
                    "address": {
                        "country": "US",
                        "city": "Springfield",
                        "addressLine": "1 Example Street",
                        "postalCode": "00000",
                    },
                    "contactDetails": {"firstName": "Sandbox", "lastName": "Buyer"},
                }
            },
            "cost": {"price": _price("0.00")},
        }
    return order


def _is_physical(kind: OrderKind, position: int) -> bool:
    if kind is OrderKind.MIXED:
        return position % 2 == 1
    return kind is OrderKind.PHYSICAL


def _line_item(position: int, quantity: int, physical: bool) -> dict[str, Any]:
    name = f"{'Physical' if physical else 'Digital'} product {position}"
    return {
        "id": line_item_id(position),
        "productName": {"original": name, "translated": name},
        "catalogReference": {"catalogItemId": str(uuid.uuid4()), "appId": WIX_STORES_APP_ID},
        "quantity": quantity,
        "physicalProperties": {"sku": f"SKU-{position}", "shippable": physical},
        "itemType": {"preset": "PHYSICAL" if physical else "DIGITAL"},
        "price": _price("10.00"),
        "totalPriceAfterTax": _price(f"{10 * quantity:.2f}"),
        "paymentOption": "FULL_PAYMENT_ONLINE",
    }


def _price(amount: str) -> dict[str, str]:
    return {"amount": amount, "formattedAmount": f"${amount}"}
