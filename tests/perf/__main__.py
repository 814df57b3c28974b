"""``make bench``: every benchmark in tests/perf, one table (Markdown) with the machine it ran on.

Each benchmark module has ``run() -> list[Row]``; ``--only NAME`` runs one.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from tests.perf.figures import Row, markdown_table

BENCHMARKS = (
    "bench_verify",
    "bench_cold_start",
    "bench_worker",
    "bench_end_to_end",
    "bench_package",
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text(encoding="utf-8").splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" Node {node.stdout.strip() or 'absent'}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=BENCHMARKS)
    arguments = parser.parse_args()
    rows: list[Row] = []
    for name in BENCHMARKS if arguments.only is None else (arguments.only,):
        module = importlib.import_module(f"tests.perf.{name}")
        print(f"running {name} ...", flush=True)
        rows.extend(module.run())
    print(f"\n{datetime.now(UTC):%Y-%m-%d}, {machine()}\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
