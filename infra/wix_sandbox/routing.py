"""A route table entry and its lookup: which handler answers a method and path, and how the
request pipeline treats it (token, faults, counting per site)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from infra.wix_sandbox.server import Request, Response

# A handler gets the request and the path's named groups (plus ``instance_id`` once the token
# has been checked).
Handler = Callable[[Request, Mapping[str, str]], Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str  # its name in the stats and the fault plan
    handler: Handler
    needs_token: bool
    wix_api: bool  # one of Wix's own routes (token and fulfillments), not the control API


def find_route(routes: Sequence[Route], request: Request) -> tuple[Route | None, dict[str, str]]:
    for route in routes:
        if route.method == request.method:
            match = route.pattern.fullmatch(request.path)
            if match:
                return route, match.groupdict()
    return None, {}
