"""``make build``: ``sam build`` with the template's runtime (Python 3.13), then a check that
each built function's folder holds its handler and the dependencies it imports, built for arm64,
so a package that would fail in Lambda fails here first.

The SAM CLI lives in its own virtualenv (``.venv-sam``): it pins packages the project's do not need.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from infra.sam.local_env import function_handler
from infra.template import load_template

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
SAM_VENV: Final = REPO_ROOT / ".venv-sam"
SAM_CLI_REQUIREMENT: Final = "aws-sam-cli==1.170.0"
PYTHON_CANDIDATES: Final = ("python3.13", "/root/.pyenv/versions/3.13.0/bin/python3.13")
BUILD_DIR: Final = REPO_ROOT / ".aws-sam" / "build"
IMPORTED_PACKAGES: Final = ("aws_lambda_powertools", "boto3", "cryptography", "jwt", "urllib3")
AARCH64: Final = 183
"""e_machine of an ELF file built for arm64."""


def sam_executable() -> Path:
    """``.venv-sam/bin/sam``, installed first when missing (once)."""
    sam = SAM_VENV / "bin" / "sam"
    if sam.exists():
        return sam
    python = str(python313() or sys.executable)
    print(f"  installing the SAM CLI into {SAM_VENV.name} (with {python}) ...", flush=True)
    subprocess.run([python, "-m", "venv", str(SAM_VENV)], check=True)  # noqa: S603 (our own tools, fixed arguments)
    pip = [str(SAM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)  # noqa: S603 (our own tools, fixed arguments)
    subprocess.run([*pip, SAM_CLI_REQUIREMENT], check=True)  # noqa: S603 (our own tools, fixed arguments)
    print("  SAM CLI installed", flush=True)
    return sam


def python313() -> Path | None:
    """A real Python 3.13 (not a version manager's shim, which sam's check refuses)."""
    for name in PYTHON_CANDIDATES:
        found = shutil.which(name)
        if found is None:
            continue
        completed = subprocess.run(  # noqa: S603 (our own tools, fixed arguments)
            [
                found,
                "-c",
                "import sys; assert sys.version_info[:2] == (3, 13); print(sys.executable)",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode == 0:
            return Path(completed.stdout.strip())
    return None


def sam_build(build_dir: Path) -> None:
    """``sam build`` of template.yaml into ``build_dir``, with python3.13 on PATH if there is
    one (the template's runtime), telemetry off."""
    path = os.environ.get("PATH", "")
    python = python313()
    if python is not None:
        path = os.pathsep.join([str(python.parent), path])
    print("  sam build (arm64, python3.13) ...", flush=True)
    completed = subprocess.run(  # noqa: S603 (our own tools, fixed arguments)
        [
            str(sam_executable()),
            "build",
            "--template-file",
            str(REPO_ROOT / "template.yaml"),
            "--build-dir",
            str(build_dir),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PATH": path, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"sam build failed:\n{completed.stdout[-2000:]}{completed.stderr[-3000:]}"
        )


def elf_machine(path: Path) -> int:
    with path.open("rb") as binary:
        header = binary.read(20)
    return int.from_bytes(header[18:20], "little")


def check_function(folder: Path, handler: str) -> list[str]:
    """What is wrong with a built function's folder (nothing, when it is right)."""
    module = handler.rsplit(".", 1)[0]
    if platform.machine().lower() in {"aarch64", "arm64"}:
        # Imports the handler and everything it needs, natively (its init needs no network).
        probe = [f"import {module}"]
    else:
        probe = [
            "import importlib.util, sys; "
            "missing = [n for n in sys.argv[1:] if importlib.util.find_spec(n) is None]; "
            "sys.exit(', '.join(missing) or None)",
            module,
            *IMPORTED_PACKAGES,
        ]
    python = python313() or Path(sys.executable)
    completed = subprocess.run(  # noqa: S603 (a Python we found, a fixed probe)
        [str(python), "-c", *probe],
        cwd=folder,
        env={"PYTHONPATH": str(folder), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=False,
    )
    problems = []
    if completed.returncode != 0:
        problems.append(f"{folder.name}: {completed.stderr.strip() or completed.stdout.strip()}")
    foreign = [
        str(library.relative_to(folder))
        for library in folder.rglob("*.so")
        if elf_machine(library) != AARCH64
    ]
    if foreign:
        problems.append(f"{folder.name}: native code not built for arm64: {foreign[:3]}")
    return problems


def main() -> int:
    sam_build(BUILD_DIR)
    template = load_template()
    problems = []
    for function_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        found = check_function(BUILD_DIR / function_id, function_handler(template, function_id))
        problems += found
        print(f"  {function_id}: {'ok' if not found else 'FAILED'}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
