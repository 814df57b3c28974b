"""Benchmark 6: each function's deployment package from ``sam build`` for arm64, zipped as
``sam deploy`` uploads it, and what dominates it.

The SAM CLI lives in its own virtualenv (``.venv-sam``, made here on first use with Python 3.13
when there is one, as the runtime is python3.13): it pins packages of its own that the project's
do not need. ``sam build`` runs without Docker: the Makefile's build targets download the arm64
(manylinux aarch64) wheels of each function's requirements and compile its .pyc with the
``python3.13`` put first on PATH.

The python3.13 runtime ships boto3 and botocore: the worker and the status function bundle them
all the same (docs/packaging.md says why), and their size without them is reported beside.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from infra.sam.build import built_functions, sam_build
from infra.template import load_template
from tests.perf.figures import Row

RUNTIME_PROVIDED: Final = ("boto3", "botocore", "s3transfer")
"""What the Lambda python3.13 runtime already has (with their own dependencies jmespath,
python-dateutil, six and urllib3, which the worker needs anyway and are counted as bundled)."""
TOP_PACKAGES: Final = 6
MB: Final = 1024 * 1024
WEBHOOK_TARGET_MB: Final = 7.0


def zipped(folder: Path, target: Path, leave_out: Iterable[str] = ()) -> Counter[str]:
    """Zip ``folder`` as ``sam deploy`` does (deflate); compressed bytes per top-level entry,
    a package's ``*.dist-info`` and ``*.data`` counted under its distribution's name."""
    skipped = tuple(leave_out)
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            relative = path.relative_to(folder)
            top = _distribution(relative.parts[0])
            if top in skipped:
                continue
            archive.write(path, relative.as_posix())
            sizes[top] += archive.getinfo(relative.as_posix()).compress_size
    return sizes


def _distribution(entry: str) -> str:
    name = entry.removesuffix(".py")
    for suffix in (".dist-info", ".data"):
        if name.endswith(suffix):
            return name.removesuffix(suffix).rsplit("-", 1)[0].replace("_", "-").lower()
    return name


def _elf_machine(path: Path) -> str:
    """The architecture an ELF shared object is built for (its header's e_machine)."""
    with path.open("rb") as stream:
        header = stream.read(20)
    machine = int.from_bytes(header[18:20], "little")
    return {0xB7: "aarch64", 0x3E: "x86-64"}.get(machine, f"machine {machine:#x}")


def run() -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        sam_build(work / "build")
        for function in built_functions(load_template()):
            folder = work / "build" / function
            unzipped = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())
            machines = {_elf_machine(path) for path in folder.rglob("*.so")}
            compiled = sum(1 for _ in folder.rglob("*.pyc"))
            as_built = zipped(folder, work / f"{function}.zip")
            zipped(folder, work / f"{function}-lean.zip", RUNTIME_PROVIDED)
            size = (work / f"{function}.zip").stat().st_size / MB
            lean = (work / f"{function}-lean.zip").stat().st_size / MB
            entries = sum(as_built.values())
            top = ", ".join(
                f"{name} {bytes_ / MB:.1f} ({bytes_ / entries:.0%})"
                for name, bytes_ in as_built.most_common(TOP_PACKAGES)
            )
            rows.append(
                Row(
                    f"{function} package (sam build, zipped)",
                    size,
                    "MB",
                    target_at_most=WEBHOOK_TARGET_MB if function == "WebhookFunction" else None,
                    note=f"unzipped {unzipped / MB:.1f} MB; largest (MB zipped): {top}; "
                    f"native code: {', '.join(sorted(machines)) or 'none'}; "
                    f"{compiled} .pyc files",
                )
            )
            if lean < size:
                rows.append(
                    Row(
                        f"{function} package without {', '.join(RUNTIME_PROVIDED)}",
                        lean,
                        "MB",
                        "as built",
                        size,
                        note="the python3.13 runtime ships them; bundled (pinned versions)",
                    )
                )
    return rows


if __name__ == "__main__":
    from tests.perf.figures import markdown_table

    print(markdown_table(run()))
