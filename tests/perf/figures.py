"""How benchmarks report: rows of figures, each against a baseline measured in the same run.

Benchmarks print figures; they are never pass/fail timers in the test suite. A row's ratio is
ours / baseline (below 1 is better for times and counts), and a target, when the issue sets one,
is shown beside it as met or not.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    benchmark: str
    ours: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    target_ratio: float | None = None
    """At most this ratio of ours to the baseline is the goal."""
    target_at_most: float | None = None
    """At most this figure (in ``unit``) is the goal."""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.ours / self.baseline

    def cells(self) -> list[str]:
        ratio = self.ratio
        verdict = ""
        if self.target_ratio is not None and ratio is not None:
            met = "met" if ratio <= self.target_ratio else "NOT met"
            verdict = f"target <= {self.target_ratio:g}x: {met}"
        if self.target_at_most is not None:
            met = "met" if self.ours <= self.target_at_most else "NOT met"
            verdict = f"target <= {self.target_at_most:g} {self.unit}: {met}"
        return [
            self.benchmark,
            f"{self.ours:,.3g} {self.unit}",
            f"{self.baseline_name} {self.baseline:,.3g} {self.unit}"
            if self.baseline is not None
            else "",
            f"{ratio:.2f}x" if ratio is not None else "",
            "; ".join(part for part in (verdict, self.note) if part),
        ]


def timings(action: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    """Seconds per call, after ``warmup`` calls not counted."""
    for _ in range(warmup):
        action()
    measured = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        measured.append(time.perf_counter() - started)
    return measured


def median_seconds(action: Callable[[], object], repeat: int, warmup: int = 3) -> float:
    return statistics.median(timings(action, repeat, warmup))


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def markdown_table(rows: Sequence[Row]) -> str:
    header = ["benchmark", "ours", "baseline (same run)", "ratio", "target / note"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)
