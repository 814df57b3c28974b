"""Generated Wix orders (physical, digital, mixed, many line items) shaped like Wix's Order object.

Buyer details are obviously fake (example.com); line item ids follow Wix's own pattern
``00000000-0000-0000-0000-000000000001``, counting up within an order.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Final

from infra.wix_sandbox.clock import iso_timestamp

MAX_GENERATED_LINE_ITEMS: Final = 1000
WIX_STORES_APP_ID: Final = "215238eb-22a5-4c36-9e7b-e7c08025e04e"


class OrderKind(StrEnum):
    PHYSICAL = "physical"
    DIGITAL = "digital"
    MIXED = "mixed"


def line_item_id(position: int) -> str:
    return f"00000000-0000-0000-0000-{position:012d}"


def generated_order(kind: OrderKind, line_items: int, quantity: int, number: int) -> dict[str, Any]:
    """An APPROVED, paid order; a mixed order alternates physical and digital items."""
    now = iso_timestamp()
    items = [
        _line_item(position, quantity, _is_physical(kind, position))
        for position in range(1, line_items + 1)
    ]
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
        "paymentStatus": "PAID",
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
    if any(item["physicalProperties"]["shippable"] for item in items):
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
