"""API Gateway HTTP API (payload 2.0) events, shaped as ``sam local generate-event`` prints them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from typing import Any, Final

_API_ID: Final = "abcdef1234"
_DOMAIN: Final = f"{_API_ID}.execute-api.us-east-1.amazonaws.com"


def http_api_event(
    body: str | bytes,
    *,
    method: str = "POST",
    path: str = "/webhooks/wix",
    route_path: str | None = None,
    base64_encoded: bool = False,
    headers: Mapping[str, str] | None = None,
    query_string: str = "",
    path_parameters: Mapping[str, str] | None = None,
    source_ip: str = "192.0.2.10",
    request_id: str | None = None,
    received_at: float | None = None,
) -> dict[str, Any]:
    """The event a Lambda behind an HTTP API route receives for one request.

    ``route_path`` is the route's template (``/orders/{orderId}``) when it differs from ``path``.
    Without ``headers``, those of a Wix delivery are used; ``request_id`` and ``received_at``
    default to new ones (give them to make a reproducible sample).
    """
    raw = body.encode() if isinstance(body, str) else body
    route_key = f"{method} {route_path or path}"
    header_values = dict(headers) if headers is not None else _wix_delivery_headers(len(raw))
    now = time.time() if received_at is None else received_at
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": header_values,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": _API_ID,
            "domainName": _DOMAIN,
            "domainPrefix": _API_ID,
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header_values.get("user-agent", ""),
            },
            "requestId": request_id or str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": base64.b64encode(raw).decode() if base64_encoded else raw.decode(),
        "isBase64Encoded": base64_encoded,
    }
    if query_string:
        event["queryStringParameters"] = _query_parameters(query_string)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    return event


def _wix_delivery_headers(content_length: int) -> dict[str, str]:
    return {
        "accept": "*/*",
        "content-length": str(content_length),
        "content-type": "text/plain; charset=utf-8",
        "host": _DOMAIN,
        "user-agent": "Wix-Webhooks",
        "x-forwarded-proto": "https",
    }


def _query_parameters(query_string: str) -> dict[str, str]:
    """As HTTP APIs give them: repeated names joined with commas."""
    from urllib.parse import parse_qsl

    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return {name: ",".join(found) for name, found in values.items()}
