"""The HTTP endpoints that mirror Wix's: ``POST /oauth2/token``, the Orders API (Search Orders,
Get Order) and the Order Fulfillments API.

Each handler only turns a request into a call on ``sites`` or ``orders``; the token and the rate
limit are checked before it, in ``WixSandbox.handle``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from infra.wix_sandbox.orders import Orders
from infra.wix_sandbox.routing import Handler, Route
from infra.wix_sandbox.server import Request, Response
from infra.wix_sandbox.sites import Sites

ORDERS: Final = "/ecom/v1/orders"
FULFILLMENTS: Final = "/ecom/v1/fulfillments"
_ORDER: Final = r"(?P<order_id>[^/]+)"
_FULFILLMENT: Final = r"(?P<fulfillment_id>[^/]+)"


class WixRoutes:
    def __init__(self, sites: Sites, orders: Orders) -> None:
        self._sites = sites
        self._orders = orders

    def routes(self) -> list[Route]:
        one_order = f"{FULFILLMENTS}/orders/{_ORDER}"
        one_fulfillment = f"{FULFILLMENTS}/{_FULFILLMENT}/orders/{_ORDER}"
        return [
            _route("POST", "/oauth2/token", "token", self._token, needs_token=False),
            _route("POST", f"{ORDERS}/search", "searchOrders", self._search_orders),
            _route("GET", f"{ORDERS}/{_ORDER}", "getOrder", self._get_order),
            _route(
                "POST",
                f"{FULFILLMENTS}/orders/bulk/create-fulfillments",
                "bulkCreate",
                self._bulk_create,
            ),
            _route("POST", f"{one_order}/create-fulfillment", "create", self._create),
            _route("GET", one_order, "list", self._list),
            _route("POST", f"{FULFILLMENTS}/list-by-ids", "listByIds", self._list_by_ids),
            _route("PATCH", one_fulfillment, "update", self._update),
            _route("DELETE", one_fulfillment, "delete", self._delete),
        ]

    def _token(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self._sites.issue_token(request.json()))

    def _search_orders(self, request: Request, parameters: Mapping[str, str]) -> Response:
        return Response.json(200, self._orders.search(parameters["instance_id"], request.json()))

    def _get_order(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.get_order(parameters["instance_id"], parameters["order_id"])
        return Response.json(200, answer)

    def _create(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.create_fulfillment(
            parameters["instance_id"], parameters["order_id"], request.json()
        )
        return Response.json(200, answer)

    def _list(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.list_fulfillments(
            parameters["instance_id"], parameters["order_id"], parameters.get("as_of")
        )
        return Response.json(200, answer)

    def _list_by_ids(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.list_by_ids(
            parameters["instance_id"], request.json(), parameters.get("as_of")
        )
        return Response.json(200, answer)

    def _bulk_create(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.bulk_create(parameters["instance_id"], request.json())
        return Response.json(200, answer)

    def _update(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.update_fulfillment(
            parameters["instance_id"],
            parameters["order_id"],
            parameters["fulfillment_id"],
            request.json(),
        )
        return Response.json(200, answer)

    def _delete(self, request: Request, parameters: Mapping[str, str]) -> Response:
        answer = self._orders.delete_fulfillment(
            parameters["instance_id"], parameters["order_id"], parameters["fulfillment_id"]
        )
        return Response.json(200, answer)


def _route(
    method: str, path: str, endpoint: str, handler: Handler, *, needs_token: bool = True
) -> Route:
    return Route(method, re.compile(path), endpoint, handler, needs_token, wix_api=True)
