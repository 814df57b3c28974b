"""The chaos run in small (100 orders; `make chaos` runs 1,000 three times): every shippable unit
fulfilled exactly once, no order lost, no order misattributed although the worker is killed, some
times between a create and its record, and not one log line with buyer data or a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local_stack.stack import StackSettings
from infra.scenarios.chaos import run_chaos
from tests.support.log_hygiene import leaks, log_lines

pytestmark = pytest.mark.integration


def test_a_hundred_orders_through_duplicates_faults_worker_kills_and_a_frozen_database(
    tmp_path: Path,
) -> None:
    stack_lines: list[str] = []

    report = run_chaos(
        100, 5, seed=11, settings=StackSettings(work_dir=tmp_path, log=stack_lines.append)
    )

    print("\n".join(report.lines()))
    assert report.passed, "\n".join(report.lines())
    assert report.webhook_attempts > report.webhook_deliveries, "the frozen database forced resends"
    assert report.faults_injected, "faults were injected"
    assert report.misattributed == 0
    assert report.fulfilled_by_others > 0
    assert report.canceled_after_approval > 0
    assert report.refunded_after_approval > 0
    assert report.statuses["CANCELED"] == report.canceled_after_approval
    assert report.kills_while_a_create_answer_was_held > 0, "some kills fell after a create"
    lines = log_lines(tmp_path) + stack_lines
    assert len(lines) > 200
    assert leaks(lines) == []
