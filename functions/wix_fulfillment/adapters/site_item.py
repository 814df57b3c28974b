"""The site item (``SITE#<instanceId>``), beside the orders in their table, in DynamoDB's typed
JSON: its key and the webhook's writes of it (registered, installed again, removed). Pure, like
``order_item``, so the webhook's cold start loads nothing more for it; the sweep's reads and
watermark writes are in ``site_registry``.

Every write is conditional: a site is registered once, and a removed site is brought back only
by App Instance Installed, never by an order's webhook or a sweep. Site items never match the
stream filter (no ``PENDING`` status), so the worker never sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from wix_fulfillment.adapters.order_item import KEY, STATUS, timestamp
from wix_fulfillment.core.order_status import SiteStatus

SITE_PREFIX: Final = "SITE#"


def site_key(instance_id: str) -> str:
    return f"{SITE_PREFIX}{instance_id}"


def new_site_item(instance_id: str, now: datetime, start_date: datetime) -> dict[str, Any]:
    """PutItem (only if new): ACTIVE, orders created from ``start_date`` on taken in."""
    return {
        KEY: {"S": site_key(instance_id)},
        "instanceId": {"S": instance_id},
        STATUS: {"S": SiteStatus.ACTIVE},
        "registeredAt": {"S": timestamp(now)},
        "startDate": {"S": timestamp(start_date)},
        "updatedAt": {"S": timestamp(now)},
    }


def reinstall_update(instance_id: str, now: datetime) -> dict[str, Any]:
    """UpdateItem: a removed site installed again starts anew (its start date now, no
    watermark), so nothing from while it was removed is taken in."""
    return {
        "Key": {KEY: {"S": site_key(instance_id)}},
        "UpdateExpression": (
            "SET #status = :active, startDate = :now, updatedAt = :now, "
            "recoveringSweeps = :zero REMOVE watermark, removedAt"
        ),
        "ConditionExpression": "#status = :removed",
        "ExpressionAttributeNames": {"#status": STATUS},
        "ExpressionAttributeValues": {
            ":active": {"S": SiteStatus.ACTIVE},
            ":removed": {"S": SiteStatus.REMOVED},
            ":now": {"S": timestamp(now)},
            ":zero": {"N": "0"},
        },
    }


def removal_update(instance_id: str, now: datetime) -> dict[str, Any]:
    """UpdateItem: REMOVED, never swept again (a site not known yet is recorded removed)."""
    moment = timestamp(now)
    return {
        "Key": {KEY: {"S": site_key(instance_id)}},
        "UpdateExpression": (
            "SET #status = :removed, removedAt = :now, updatedAt = :now, "
            "instanceId = :instance, registeredAt = if_not_exists(registeredAt, :now), "
            "startDate = if_not_exists(startDate, :now)"
        ),
        "ConditionExpression": f"attribute_not_exists({KEY}) OR #status = :active",
        "ExpressionAttributeNames": {"#status": STATUS},
        "ExpressionAttributeValues": {
            ":removed": {"S": SiteStatus.REMOVED},
            ":active": {"S": SiteStatus.ACTIVE},
            ":now": {"S": moment},
            ":instance": {"S": instance_id},
        },
    }
