"""Tracking info for the sandbox's tests: a new number each time, since Wix refuses (409) a
fulfillment whose tracking number the order already has."""

from __future__ import annotations

import itertools
from typing import Final

from tests.support.wix_http import fedex

_NUMBERS: Final = itertools.count(100_001)


def new_fedex() -> dict[str, str]:
    return fedex(str(next(_NUMBERS)))
