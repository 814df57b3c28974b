"""Wix's App Instance Installed and Removed webhooks: the site registry's lifecycle events.

They come through the same route and verifier as the order events. Their ``eventType`` is the
name Wix's SDK gives them (``AppInstalled``, ``AppRemoved``); the inner ``data`` is the event's own
object (``appId``, and ``originInstanceId`` when the site was duplicated), with no entity
envelope. Nothing in them is stored but the instance id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

# The order events' GUID check (its module is to make it public).
from wix_fulfillment.core.order_event import guid

APP_INSTALLED_EVENT_TYPE: Final = "AppInstalled"
APP_REMOVED_EVENT_TYPE: Final = "AppRemoved"


@dataclass(frozen=True, slots=True)
class AppInstalled:
    instance_id: str


@dataclass(frozen=True, slots=True)
class AppRemoved:
    instance_id: str


AppInstanceEvent = AppInstalled | AppRemoved


def parse_app_instance_event(claims: Mapping[str, Any]) -> AppInstanceEvent | None:
    """The event of verified JWT claims when it is an app instance one, else None (the order
    events' parser takes it)."""
    data = claims.get("data")
    if not isinstance(data, str):
        return None
    try:
        webhook = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(webhook, dict):
        return None
    event_type = webhook.get("eventType")
    if event_type not in (APP_INSTALLED_EVENT_TYPE, APP_REMOVED_EVENT_TYPE):
        return None
    instance_id = guid(webhook.get("instanceId"), "instanceId")
    if event_type == APP_INSTALLED_EVENT_TYPE:
        return AppInstalled(instance_id)
    return AppRemoved(instance_id)
