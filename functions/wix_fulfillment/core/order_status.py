"""An order's status moves forward only: PENDING (or AWAITING_PAYMENT, which a payment turns back
into PENDING), then exactly one terminal status. A site's (its registry item) is ACTIVE until the
app is removed, and only an install makes it ACTIVE again."""

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    """Stored by the webhook; the fulfillment worker has not finished with it."""
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    """``FULFILL_WHEN=paid`` and Wix says the order is not paid: Wix's payment event takes it up."""
    FULFILLED = "FULFILLED"
    """Wix accepted the fulfillment for every remaining shippable unit."""
    SKIPPED = "SKIPPED"
    """Nothing left to fulfill (digital items, already fulfilled at Wix)."""
    REJECTED = "REJECTED"
    """Wix refused the fulfillment with a permanent error, recorded with its code."""
    CANCELED = "CANCELED"
    """Canceled at Wix before it was fulfilled: nothing bought, nothing created."""


class SiteStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REMOVED = "REMOVED"
    """The app was uninstalled: never swept, never called (its tokens are refused)."""
