"""What the sandbox does where Wix's documentation is silent, unclear or contradicts itself.

Each entry is a choice a client must not depend on: code under test has to be right whichever way
Wix really behaves, and no test outside ``tests/sandbox`` may pass or fail because of one. What
Wix does document is in ``shared/wix/api-facts.md``; a rule marked "unconfirmed" in the code is
listed here, under the module that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    where: str  # the sandbox module that makes the choice
    topic: str
    sandbox: str  # what the sandbox does


UNCONFIRMED: Final = (
    Unconfirmed(
        "order_search",
        "cursor and query together",
        "a request with a cursor continues the query the cursor was made for; a filter or sort "
        "sent beside it is a 400 (the SDK's typings say following requests use the cursor and "
        "not filter or sort; what Wix does with both is not documented)",
    ),
    Unconfirmed(
        "order_search",
        "the last page",
        "metadata.cursors.next is null and hasNext false, cursors.prev null on the first page; "
        "metadata.count is the page's size",
    ),
    Unconfirmed(
        "order_search",
        "what a cursor points at",
        "a position in the query's results, counted again at each request: an order created or "
        "updated between two pages can shift the rest by one (repeat one, or skip one); orders "
        "equal in the sort keep the order they were placed in; an empty sort is the default",
    ),
    Unconfirmed(
        "order_search",
        "refusals",
        "a field or operator the supported-filters page does not list for that field, a "
        "malformed date or order number, a limit outside 1 to 100 and a cursor it did not give "
        "are 400 validation errors",
    ),
    Unconfirmed(
        "order_search",
        "comparing dates and numbers",
        "createdDate and updatedDate compare as instants (with or without milliseconds), number "
        "as a number though orders carry it as a string",
    ),
    Unconfirmed(
        "orders",
        "Get Order of another site",
        "404 ORDER_NOT_FOUND, as an unknown order; a malformed id is a 400",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "TRACKING_NUMBER_ALREADY_EXISTS",
        "checked before the order's quantities, against the order's stored fulfillments only "
        "(two fulfillments of one request with one number both pass), the number compared "
        "exactly; another order may have the same number; an update is not checked",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "creates on a canceled order",
        "Wix documents no refusal: the sandbox answers 400 ORDER_NOT_APPROVED for any order "
        "not APPROVED (no test outside tests/sandbox may depend on it)",
    ),
    Unconfirmed(
        "orders",
        "order changes",
        "a change moves updatedDate forward (by 1 ms if needed); a refund without a payment "
        "status makes it PARTIALLY_REFUNDED, FULLY_REFUNDED once every unit of every line is "
        "refunded; nothing else of the order (prices, balance, activities) changes",
    ),
    Unconfirmed(
        "control_api",
        "which webhooks a change sends",
        "Order Canceled when the status becomes CANCELED, Order Payment Status Updated when the "
        "payment status differs from before (refunds included), both when both change; each "
        "carries the order after the change; canceling a canceled order sends nothing; the "
        "canceled body's restockAllItems is false",
    ),
    Unconfirmed(
        "sites",
        "a removed site's tokens",
        "refused with 401 UNAUTHENTICATED; a new token for it is 400 APP_NOT_INSTALLED; its "
        "orders are kept (and visible again if the app is installed again)",
    ),
    Unconfirmed(
        "webhooks",
        "App Instance Installed and Removed",
        "eventType AppInstalled/AppRemoved (the SDK's names), the inner data the event's own "
        "object ({appId} and originInstanceId only for a duplicated site), identity a WIX_USER "
        "with a made-up id",
    ),
    Unconfirmed(
        "webhooks",
        "pretty-printed JSON",
        "every nested JSON string (the webhook, its data and identity) indented by 2 with a "
        "space before each colon, arrays one item a line: Wix's samples show objects only",
    ),
    Unconfirmed(
        "webhooks",
        "lost webhooks",
        "a lost order's deliveries are recorded with state lost and never sent; an attempt "
        "already under way when they are lost still counts if it is answered 200",
    ),
    Unconfirmed(
        "errors",
        "error codes",
        "Wix documents the error body's shape only; the sandbox's application error codes "
        "(ORDER_NOT_FOUND, ORDER_NOT_APPROVED, LINE_ITEM_NOT_FOUND, "
        "FULFILLMENT_QUANTITY_EXCEEDED, FULFILLMENT_NOT_FOUND, UNAUTHENTICATED, INVALID_CLIENT, "
        "UNSUPPORTED_GRANT_TYPE, APP_NOT_INSTALLED, TOO_MANY_REQUESTS, INTERNAL, NOT_FOUND, "
        "CONFLICT) and their statuses are its own",
    ),
    Unconfirmed(
        "sites",
        "token request refusals",
        "a grant type other than client_credentials is 400, a wrong client id or secret 401, "
        "an instance the app is not installed on 400",
    ),
    Unconfirmed(
        "sites",
        "Bearer prefix",
        "'Authorization: Bearer <token>' is refused with 401 (Wix documents the raw token only)",
    ),
    Unconfirmed(
        "sites",
        "several tokens per site",
        "a new token does not revoke the site's earlier ones; each is valid until it expires",
    ),
    Unconfirmed(
        "sites",
        "token format",
        "tokens start with 'OauthNG.JWS.' as Wix's do, followed by random text (not a JWS)",
    ),
    Unconfirmed(
        "orders",
        "another site's order",
        "answers 404 ORDER_NOT_FOUND, as an unknown order; list-by-ids leaves such orders (and "
        "unknown ones) out of its answer and lists a repeated id once",
    ),
    Unconfirmed(
        "orders",
        "bulk create",
        "each order entry succeeds or fails whole (all its fulfillments or none); the "
        "fulfillments of one entry count against each other's remaining quantities; "
        "undetailedFailures is always 0",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "split line items",
        "one line item may be split across fulfillments, up to its remaining quantity (Wix's "
        "docs disagree)",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "repeated line item",
        "the same line item id twice in one fulfillment is a 400 validation error",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "what may be fulfilled",
        "only the order's status counts (APPROVED): refunded units (refundQuantity), another "
        "fulfiller's lines (fulfillerId), unpaid and pickup orders can all be fulfilled",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "fulfillment status",
        "computed from line items with physicalProperties.shippable (Wix documents orders "
        "without shipping info as fulfilled automatically): none shippable is FULFILLED",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "update",
        "only trackingInfo or customInfo change, setting one removes the other; lineItems other "
        "than the stored ones are a 400",
    ),
    Unconfirmed(
        "fulfillment_rules",
        "limits",
        "a line item id is 1 to 100 characters; a trackingLink is an http(s) URL of at most "
        "2048 characters",
    ),
    Unconfirmed(
        "tracking",
        "tracking links filled in",
        "Wix fills in the link for fedex, ups, usps, dhl and canadaPost; the sandbox's links are "
        "the carriers' public track pages, not necessarily the ones Wix writes",
    ),
    Unconfirmed(
        "orders",
        "orderId in the create body",
        "ignored: the path's order id counts (the SDK sends both)",
    ),
    Unconfirmed(
        "rate_limit",
        "rate limit window",
        "a sliding 60 s window of accepted requests per instance; refused requests do not count; "
        "token requests are exempt; a 429 carries no Retry-After",
    ),
    Unconfirmed(
        "webhooks",
        "webhook Content-Type",
        "text/plain (seen, not documented)",
    ),
    Unconfirmed(
        "webhooks",
        "webhook token lifetime",
        "exp - iat is 3,600,000 s, as in genuine tokens seen in public (or no exp, on request); "
        "those also carry a kid header, which the sandbox's lack",
    ),
    Unconfirmed(
        "webhooks",
        "what counts as delivered",
        "a 200 within 1.25 s; any other status, including other 2xx, is retried",
    ),
)
