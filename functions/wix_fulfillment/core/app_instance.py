"""Wix's App Instance Installed and Removed webhooks: the site registry's lifecycle events.

They come through the same route and verifier as the order events. Their ``eventType`` is the
name Wix's SDK gives them (``AppInstalled``, ``AppRemoved``: ``order_event`` tells them from the
order events); the inner ``data`` is the event's own object (``appId``, and ``originInstanceId``
when the site was duplicated), with no entity envelope. Nothing in them is stored but the
instance id. Intake imports this module at the first such event only: they are rare, and the
webhook's cold start is not to pay for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from wix_fulfillment.core.order_event import (
    APP_INSTALLED_EVENT_TYPE,
    APP_INSTANCE_EVENT_TYPES,
    APP_REMOVED_EVENT_TYPE,
    MalformedEvent,
    guid,
)


@dataclass(frozen=True, slots=True)
class AppInstalled:
    instance_id: str
    event_type: ClassVar[str] = APP_INSTALLED_EVENT_TYPE


@dataclass(frozen=True, slots=True)
class AppRemoved:
    instance_id: str
    event_type: ClassVar[str] = APP_REMOVED_EVENT_TYPE


AppInstanceEvent = AppInstalled | AppRemoved


def parse_app_instance_event(claims: Mapping[str, Any]) -> AppInstanceEvent:
    """The event of verified JWT claims whose ``eventType`` is an app instance one (the order
    events' parser tells them apart and leaves them here)."""
    data = claims.get("data")
    try:
        webhook = json.loads(data) if isinstance(data, str) else None
    except (ValueError, RecursionError):
        webhook = None
    if not isinstance(webhook, dict) or webhook.get("eventType") not in APP_INSTANCE_EVENT_TYPES:
        raise MalformedEvent("not an app instance event")
    instance_id = guid(webhook.get("instanceId"), "instanceId")
    if webhook["eventType"] == APP_INSTALLED_EVENT_TYPE:
        return AppInstalled(instance_id)
    return AppRemoved(instance_id)
