"""What must never appear in a log line: buyer data, access tokens, the app secret, JWTs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from infra.wix_sandbox.config import DEFAULT_APP_SECRET

FORBIDDEN: Final = {
    "an email address": re.compile(r"[\w.+-]+@[\w-]+\.[A-Za-z]{2,}"),
    "a JWT": re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*"),
    "a Wix access token": re.compile(r"OauthNG\.JWS\."),
    "the app secret": re.compile(re.escape(DEFAULT_APP_SECRET)),
    "a buyer's address": re.compile(r"Example Street|525 5th Avenue|addressLine"),
    "a buyer's name or phone": re.compile(r"Jane|\bDoe\b|0555555555|firstName|lastName|phone"),
}


def leaks(lines: Iterable[str]) -> list[str]:
    """Each forbidden thing found, with the line (shortened) it was found in."""
    found = []
    for line in lines:
        for what, pattern in FORBIDDEN.items():
            if pattern.search(line):
                found.append(f"{what}: {line[:200]}")
    return found


def log_lines(work_dir: Path) -> list[str]:
    """Every line the stack's functions logged."""
    return [
        line
        for log in sorted((work_dir / "logs").glob("*.log"))
        for line in log.read_text(encoding="utf-8").splitlines()
    ]
