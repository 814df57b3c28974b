"""Tracking links Wix fills in for the carriers it knows, and tracking numbers in their formats."""

from __future__ import annotations

import random
import string
from typing import Final
from urllib.parse import quote

# Wix autofills the link for exactly these providers (names as Wix spells them); for any other
# provider the caller must send a trackingLink. The patterns are the carriers' public track pages
# (the links Wix writes may differ: ``unconfirmed``).
TRACKING_LINK_PATTERNS: Final[dict[str, str]] = {
    "fedex": "https://www.fedex.com/apps/fedextrack/?action=track&trackingnumber={}",
    "ups": "https://www.ups.com/track?tracknum={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={}&brand=DHL",
    "canadaPost": "https://www.canadapost-postescanada.ca/track-reperez/en#/search?searchFor={}",
}
# Links for other providers point at a reserved domain: a string for the client, never fetched.
OTHER_PROVIDER_LINK: Final = "https://tracking.example.com/{provider}/{number}"


def known_tracking_link(provider: str, tracking_number: str) -> str | None:
    pattern = TRACKING_LINK_PATTERNS.get(provider)
    return None if pattern is None else pattern.format(quote(tracking_number, safe=""))


def carrier_tracking_link(provider: str, tracking_number: str) -> str:
    return known_tracking_link(provider, tracking_number) or OTHER_PROVIDER_LINK.format(
        provider=quote(provider, safe=""), number=quote(tracking_number, safe="")
    )


def new_tracking_number(provider: str, rng: random.Random) -> str:
    """A number shaped like the carrier's (FedEx 12 digits, UPS 1Z + 16, USPS 22, ...)."""

    def digits(count: int) -> str:
        return "".join(rng.choice(string.digits) for _ in range(count))

    if provider == "ups":
        return "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    lengths = {"fedex": 12, "usps": 22, "dhl": 10, "canadaPost": 16}
    if provider in lengths:
        return digits(lengths[provider])
    return "SBX" + digits(12)
