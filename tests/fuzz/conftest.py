"""Hypothesis profiles for the fuzzers, chosen by ``HYPOTHESIS_PROFILE``.

``ci`` (the default, what ``make test`` runs): a couple of hundred examples per fuzzer,
derandomized and without the example database, so every run of the suite tries the same inputs
and a red build is reproducible. ``fuzz`` (``make fuzz``): 5,000 fresh random examples per
fuzzer; a failure prints the blob that replays it (``@reproduce_failure``), and the falsifying
example belongs in the test as an ``@example``.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.register_profile("fuzz", max_examples=5000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
