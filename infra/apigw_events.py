"""API Gateway HTTP API (payload 2.0) events, shaped as ``sam local generate-event`` prints them."""

from __future__ import annotations

import base64
from typing import Any


def http_api_event(
    body: str, *, method: str = "POST", path: str = "/webhooks/wix", base64_encoded: bool = False
) -> dict[str, Any]:
    """The event a Lambda behind an HTTP API route receives for one request."""
    route_key = f"{method} {path}"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "*/*",
            "content-length": str(len(body.encode())),
            "content-type": "text/plain; charset=utf-8",
            "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "user-agent": "Wix-Webhooks",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": "Wix-Webhooks",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": route_key,
            "stage": "$default",
            "time": "22/Nov/2026:13:30:45 +0000",
            "timeEpoch": 1795354245000,
        },
        "body": base64.b64encode(body.encode()).decode() if base64_encoded else body,
        "isBase64Encoded": base64_encoded,
    }
