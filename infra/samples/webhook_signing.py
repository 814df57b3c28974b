"""Sign a webhook the way Wix does: a JWT (RS256) whose ``data`` claim nests JSON strings twice.

Used to make the sample event, by tests, and by the Wix sandbox; never by the Lambda code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from wix_fulfillment.core.order_event import ORDER_APPROVED_EVENT_TYPE

ANONYMOUS_IDENTITY: Mapping[str, str] = {
    "identityType": "ANONYMOUS_VISITOR",
    "anonymousVisitorId": "4c7ce95c-9fb3-417d-9f02-b41e82b841f7",
}


def order_approved_envelope(
    order: Mapping[str, Any], event_id: str, event_time: str
) -> dict[str, Any]:
    """The event envelope, keys in the order of Wix's example payload."""
    return {
        "id": event_id,
        "entityFqdn": "wix.ecom.v1.order",
        "slug": "approved",
        "entityId": order["id"],
        "actionEvent": {"body": {"order": order}},
        "eventTime": event_time,
        "triggeredByAnonymizeRequest": False,
    }


def wix_json(value: Any) -> str:
    """JSON as Wix writes it inside its webhooks: indented, a space before each colon."""
    return json.dumps(value, indent=2, separators=(",", " : "))


def wix_webhook_claims(
    envelope: Mapping[str, Any],
    *,
    instance_id: str,
    issued_at: int,
    expires_at: int,
    event_type: str = ORDER_APPROVED_EVENT_TYPE,
    identity: Mapping[str, Any] = ANONYMOUS_IDENTITY,
    pretty: bool = False,
) -> dict[str, Any]:
    """``pretty``: the nested JSON strings written as Wix writes them (``wix_json``)."""
    dumps = wix_json if pretty else json.dumps
    webhook = {
        "eventType": event_type,
        "instanceId": instance_id,
        "data": dumps(envelope),
        "identity": dumps(identity),
    }
    return {"data": dumps(webhook), "iat": issued_at, "exp": expires_at}


def sign_wix_webhook(claims: Mapping[str, Any], private_key: RSAPrivateKey | bytes | str) -> str:
    """Sign RS256. Pass a parsed key when signing many: parsing a PEM is the slow part."""
    return jwt.encode(dict(claims), private_key, algorithm="RS256")
