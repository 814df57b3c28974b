"""What an operator sees of the webhook: EMF metrics by outcome and reason, and log lines that
name the order and the event (and nothing of the buyer or the token)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from tests.support.lambda_functions import Handler, function_log
from tests.support.webhooks import (
    SEED_EVENT_ID,
    SEED_ORDER_ID,
    KeyPair,
    signed_webhook,
    webhook_event,
)

pytestmark = pytest.mark.integration


def json_lines(output: str) -> list[dict[str, Any]]:
    entries = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                entries.append(entry)
    return entries


def metric_counts(entries: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    counts: dict[tuple[str, str], float] = {}
    for entry in entries:
        for directive in entry.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                key = (metric["Name"], str(entry.get("reason", "")))
                values = entry[metric["Name"]]
                total = sum(values) if isinstance(values, list) else values
                counts[key] = counts.get(key, 0) + total
    return counts


def test_each_outcome_is_counted_and_logged_with_its_ids(
    webhook_handler: Handler,
    webhook_keys: KeyPair,
    other_keys: KeyPair,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with function_log("wix-webhook") as lines:
        token = signed_webhook(webhook_keys)
        for body in (token, token, signed_webhook(other_keys), "x" * (11 * 1024 * 1024)):
            webhook_handler(webhook_event(body), None)
        webhook_handler(
            webhook_event(signed_webhook(webhook_keys, event_type="wix.ecom.v1.order_paid")), None
        )
    entries = json_lines(capsys.readouterr().out)

    assert metric_counts(entries) == {
        ("WebhooksAccepted", ""): 1,
        ("WebhooksDuplicate", ""): 1,
        ("WebhooksRejected", "invalid token"): 1,
        ("WebhooksRejected", "body too large"): 1,
        ("WebhooksIgnored", ""): 1,
    }
    logs = json_lines(lines.getvalue())
    [accepted] = [entry for entry in logs if entry["message"] == "order accepted"]
    assert (accepted["order_id"], accepted["event_id"]) == (SEED_ORDER_ID, SEED_EVENT_ID)
    assert accepted["request_id"]
    assert [entry["cold_start"] for entry in logs] == [True, False, False, False, False]
    assert token.split(".")[1][:40] not in json.dumps(entries) + lines.getvalue()


def test_text_from_a_request_is_cut_short_in_the_logs(
    webhook_handler: Handler, webhook_keys: KeyPair
) -> None:
    long_event_type = "wix.ecom.v1." + "x" * 100_000

    with function_log("wix-webhook") as lines:
        webhook_handler(
            webhook_event(signed_webhook(webhook_keys, event_type=long_event_type)), None
        )

    [ignored] = json_lines(lines.getvalue())
    assert ignored["message"] == "event ignored"
    assert len(ignored["event_type"]) == 200
