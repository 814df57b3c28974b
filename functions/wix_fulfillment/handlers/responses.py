"""The JSON answers of the HTTP functions (API Gateway's payload 2.0 response shape)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def json_response(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }
