"""Copies of template.yaml with a few edits, for local stacks wired differently."""

from __future__ import annotations

from pathlib import Path

from infra.template import TEMPLATE_PATH

WORKER_TIMEOUT: str = "about 4 per 100 orders.\n      Timeout: 300"
"""The worker's timeout line (ReconcileFunction has one alike), with the comment above it."""
"""FulfillmentFunction's timeout line, the only one of 300 s."""


def edited_template(tmp_path: Path, edits: dict[str, str]) -> Path:
    text = TEMPLATE_PATH.read_text()
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    copy = tmp_path / "template.yaml"
    copy.write_text(text)
    return copy
