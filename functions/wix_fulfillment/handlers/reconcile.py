"""ReconcileFunction: on a schedule, the orders no webhook brought, and the PENDING orders the
stream gave up on.

Per active site: Wix's Search Orders over the site's window (``core/reconciliation.py``), each
order found taken in through the webhook's own conditional write, so the stream carries a
recovered order to the worker unchanged and a delivered one is a no-op (one waiting for a payment
Wix now has gets the payment event's write); then the watermark. It stops before a site, and
before a page, once its deadline is near, saving how far it got. Then the PENDING orders untouched
since the cool-off are redriven, a bounded number of times each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.metrics import MetricUnit

from wix_fulfillment.adapters.stale_orders import auto_redrive
from wix_fulfillment.bootstrap import reconcile_parts
from wix_fulfillment.core.model import AppSecretNotSet, OrderStoreUnavailable, WixUnavailable
from wix_fulfillment.core.order_status import SiteStatus
from wix_fulfillment.core.reconciliation import (
    recovering_sweeps,
    redrive_due,
    resume_point,
    sweep_site,
    sweep_window,
    webhooks_silent,
    wix_instant,
)
from wix_fulfillment.handlers.observability import (
    entry_point,
    logger_and_metrics,
    wix_call_observer,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger, metrics = logger_and_metrics("wix-reconcile")
STOP_MARGIN_SECONDS: Final = 20.0
"""No page is asked for with less left: one takes at most the Wix client's read timeout (10 s)
and its margin, and the watermark still has to be written."""

parts = reconcile_parts()
"""Built once per execution environment, during Lambda's init phase."""
observe_wix_call = wix_call_observer(metrics)


@entry_point(logger, metrics)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    settings = parts.settings
    calls = 0

    def seconds_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    def has_time() -> bool:
        return seconds_left() > STOP_MARGIN_SECONDS

    def observe(endpoint: str, outcome: str, seconds: float) -> None:
        nonlocal calls
        calls += 1
        observe_wix_call(endpoint, outcome, seconds)

    wix = parts.wix.client(seconds_left, observe)
    orders = parts.wix.orders(wix)
    cool_off = timedelta(minutes=settings.redrive_after_minutes)
    scan = parts.registry.scan(stale_before=now - cool_off)
    active = [site for site in scan.sites if site.status is SiteStatus.ACTIVE]
    summary: dict[str, Any] = {
        "sitesSwept": 0,
        "sitesLeft": 0,
        "ordersRecovered": 0,
        "paymentsApplied": 0,
        "ordersRedriven": 0,
        "silentSites": [],
    }
    try:
        parts.wix.credentials.app_secret()
    except AppSecretNotSet as error:
        logger.error("the app secret has not been set; no site swept", extra={"reason": str(error)})
        metrics.add_metric(name="AppSecretNotSet", unit=MetricUnit.Count, value=1)
        active = []
    event_id = f"sweep:{wix_instant(now)}"
    for site in active:
        if not has_time():
            summary["sitesLeft"] += 1
            continue
        overlap = timedelta(minutes=settings.overlap_minutes)
        try:
            sweep = sweep_site(
                site,
                sweep_window(site, now, overlap),
                orders,
                parts.intake.insert_if_new,
                event_id=event_id,
                max_calls=settings.calls_per_site,
                has_time=has_time,
                apply_payment=parts.intake.apply_found_payment,
            )
        except (WixUnavailable, OrderStoreUnavailable) as error:
            logger.error(
                "site not swept; the next sweep tries again",
                extra={"instance_id": site.instance_id, "reason": str(error)},
            )
            continue
        recovering = recovering_sweeps(site, sweep)
        parts.registry.save_sweep(sweep, recovering, now, resume_point(sweep))
        summary["sitesSwept"] += 1
        summary["ordersRecovered"] += len(sweep.recovered)
        summary["paymentsApplied"] += len(sweep.payments_applied)
        for order_id in sweep.recovered:
            logger.info(
                "order recovered", extra={"instance_id": site.instance_id, "order_id": order_id}
            )
        for order_id in sweep.payments_applied:
            logger.info(
                "payment found that no webhook brought",
                extra={"instance_id": site.instance_id, "order_id": order_id},
            )
        if sweep.before_start or sweep.unreadable:
            logger.info(
                "orders not taken in",
                extra={
                    "instance_id": site.instance_id,
                    "before_start_date": sweep.before_start,
                    "unreadable": sweep.unreadable,
                },
            )
        logger.info(
            "site swept" if sweep.complete else "site swept in part; the next sweep goes on",
            extra={
                "instance_id": site.instance_id,
                "recovered": len(sweep.recovered),
                "already_stored": sweep.already_stored,
                "wix_calls": sweep.calls,
                "watermark": wix_instant(sweep.watermark) if sweep.watermark else None,
            },
        )
        if webhooks_silent(recovering):
            summary["silentSites"].append(site.instance_id)
            logger.warning(
                "the site's webhooks are not coming: the sweep keeps recovering its orders"
                " (check the app's webhook subscriptions)",
                extra={"instance_id": site.instance_id, "sweeps_in_a_row": recovering},
            )
    for stale in scan.stale:
        due = redrive_due(stale, now, cool_off=cool_off, max_redrives=settings.max_auto_redrives)
        if not due or not has_time():
            continue
        if auto_redrive(
            parts.dynamodb,
            settings.table_name,
            stale.key,
            stale_before=now - cool_off,
            max_redrives=settings.max_auto_redrives,
            now=now,
        ):
            summary["ordersRedriven"] += 1
            logger.info(
                "stale order redriven",
                extra={"key": stale.key, "redrive": stale.auto_redrives + 1},
            )
    for name, value in (
        ("OrdersRecovered", summary["ordersRecovered"]),
        ("PaymentsApplied", summary["paymentsApplied"]),
        ("SitesSwept", summary["sitesSwept"]),
        ("SitesLeftForNextSweep", summary["sitesLeft"]),
        ("SitesWebhooksSilent", len(summary["silentSites"])),
        ("OrdersRedriven", summary["ordersRedriven"]),
        ("WixCalls", calls),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    summary["wixCalls"] = calls
    return summary
