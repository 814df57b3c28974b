"""The site registry: one item per Wix site instance in the orders table (``SITE#<instanceId>``,
``site_item``), beside the orders. Registered at the site's first webhook or by App Instance
Installed, marked REMOVED by App Instance Removed; it holds the site's start date and the sweep's
watermark.

The webhook writes it through its own transport (``intake_store.SiteWrites``); the sweep, the
worker and the operator command read it, and the sweep moves its watermark, through boto3
(``SiteRegistry``). A watermark never moves back, and a sweep never writes to a removed site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from wix_fulfillment.adapters.boto3_dynamodb import conditional_check_failed
from wix_fulfillment.adapters.order_item import KEY, STATUS, timestamp
from wix_fulfillment.adapters.site_item import SITE_PREFIX, site_key
from wix_fulfillment.core.order_status import OrderStatus, SiteStatus
from wix_fulfillment.core.reconciliation import Site, SiteSweep, StalePending

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ORDER_PREFIX: Final = "ORDER#"
AUTO_REDRIVES: Final = "autoRedrives"
"""How often the sweep has sent a stale PENDING order through the stream again."""


@dataclass(frozen=True, slots=True)
class TableScan:
    """What a sweep starts from: every site, and the PENDING orders not updated since the
    cutoff."""

    sites: tuple[Site, ...]
    stale: tuple[StalePending, ...]


class SiteRegistry:
    """The sweep's and the operator's view of the registry, over boto3."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def scan(self, stale_before: datetime) -> TableScan:
        """One pass over the table for both (no index to query: sites are few, and a scan of
        a 90-day table every 15 minutes costs cents a day; see docs/operations.md)."""
        sites: list[Site] = []
        stale: list[StalePending] = []
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "FilterExpression": (
                "begins_with(pk, :site) OR "
                "(begins_with(pk, :order) AND #status = :pending AND updatedAt < :cutoff)"
            ),
            "ProjectionExpression": (
                "pk, instanceId, #status, updatedAt, startDate, watermark, resumeFrom, "
                f"recoveringSweeps, {AUTO_REDRIVES}"
            ),
            "ExpressionAttributeNames": {"#status": STATUS},
            "ExpressionAttributeValues": {
                ":site": {"S": SITE_PREFIX},
                ":order": {"S": ORDER_PREFIX},
                ":pending": {"S": OrderStatus.PENDING},
                ":cutoff": {"S": timestamp(stale_before)},
            },
        }
        while True:
            page = self._client.scan(**request)
            for item in page.get("Items", []):
                if item[KEY]["S"].startswith(SITE_PREFIX):
                    sites.append(site_from_item(item))
                else:
                    stale.append(
                        StalePending(
                            key=item[KEY]["S"],
                            instance_id=item["instanceId"]["S"],
                            updated_at=datetime.fromisoformat(item["updatedAt"]["S"]),
                            auto_redrives=int(item.get(AUTO_REDRIVES, {}).get("N", "0")),
                        )
                    )
            if "LastEvaluatedKey" not in page:
                return TableScan(tuple(sites), tuple(stale))
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def site(self, instance_id: str) -> Site | None:
        item = self._client.get_item(
            TableName=self._table_name, Key={KEY: {"S": site_key(instance_id)}}, ConsistentRead=True
        ).get("Item")
        return site_from_item(item) if item else None

    def set_start_date(self, instance_id: str, start_date: datetime) -> None:
        """The operator's "fulfill orders created on or after": registers the site if it is not
        known yet, keeps its status and watermark otherwise."""
        now = timestamp(datetime.now(UTC))
        self._client.update_item(
            TableName=self._table_name,
            Key={KEY: {"S": site_key(instance_id)}},
            UpdateExpression=(
                "SET startDate = :start, updatedAt = :now, instanceId = :instance, "
                "#status = if_not_exists(#status, :active), "
                "registeredAt = if_not_exists(registeredAt, :now)"
            ),
            ExpressionAttributeNames={"#status": STATUS},
            ExpressionAttributeValues={
                ":start": {"S": timestamp(start_date)},
                ":now": {"S": now},
                ":instance": {"S": instance_id},
                ":active": {"S": SiteStatus.ACTIVE},
            },
        )

    def save_sweep(
        self, sweep: SiteSweep, recovering: int, now: datetime, resume_from: datetime | None
    ) -> bool:
        """A complete sweep moves the watermark (forward only) and clears the resume point; one
        cut short sets the resume point. Only on an active site: a sweep finishing after the
        site was removed changes nothing. False then."""
        stamps = "recoveringSweeps = :recovering, lastSweptAt = :now, updatedAt = :now"
        if sweep.complete and sweep.watermark is not None:
            update = f"SET watermark = :mark, {stamps} REMOVE resumeFrom"
            condition = (
                "#status = :active AND (attribute_not_exists(watermark) OR watermark <= :mark)"
            )
            mark = sweep.watermark
        elif resume_from is not None:
            update, condition = f"SET resumeFrom = :mark, {stamps}", "#status = :active"
            mark = resume_from
        else:
            return False
        try:
            self._client.update_item(
                TableName=self._table_name,
                Key={KEY: {"S": site_key(sweep.instance_id)}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": STATUS},
                ExpressionAttributeValues={
                    ":mark": {"S": timestamp(mark)},
                    ":recovering": {"N": str(recovering)},
                    ":now": {"S": timestamp(now)},
                    ":active": {"S": SiteStatus.ACTIVE},
                },
            )
        except ClientError as error:
            if conditional_check_failed(error):
                return False
            raise
        return True


def site_from_item(item: Mapping[str, Any]) -> Site:
    watermark = item.get("watermark", {}).get("S")
    resume_from = item.get("resumeFrom", {}).get("S")
    return Site(
        instance_id=item["instanceId"]["S"],
        status=SiteStatus(item[STATUS]["S"]),
        start_date=datetime.fromisoformat(item["startDate"]["S"]),
        watermark=datetime.fromisoformat(watermark) if watermark else None,
        resume_from=datetime.fromisoformat(resume_from) if resume_from else None,
        recovering_sweeps=int(item.get("recoveringSweeps", {}).get("N", "0")),
    )
