"""An order's status moves forward only: PENDING, then exactly one terminal status."""

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    """Stored by the webhook; the fulfillment worker has not finished with it."""
    FULFILLED = "FULFILLED"
    """Wix accepted the fulfillment for every remaining shippable unit."""
    SKIPPED = "SKIPPED"
    """Nothing left to fulfill (digital items, already fulfilled at Wix)."""
    REJECTED = "REJECTED"
    """Wix refused the fulfillment with a permanent error, recorded with its code."""
