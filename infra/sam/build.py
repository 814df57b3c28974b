"""``make build``: ``sam build`` of the template (its functions built by the Makefile's
``build-<LogicalId>`` targets), then a check of each built function's folder, so a package that
would fail in Lambda fails here first: its handler and the dependencies it imports, native code for
the architecture built for, and a .pyc for every module that Python 3.13 loads without compiling.

The SAM CLI lives in its own virtualenv (``.venv-sam``): it pins packages the project's do not need.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infra.sam.local_env import function_environment, function_handler
from infra.template import load_template

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
SAM_VENV: Final = REPO_ROOT / ".venv-sam"
SAM_CLI_REQUIREMENT: Final = "aws-sam-cli==1.170.0"
PYTHON_CANDIDATES: Final = ("python3.13", "/root/.pyenv/versions/3.13.0/bin/python3.13")
BUILD_DIR: Final = REPO_ROOT / ".aws-sam" / "build"
ELF_MACHINES: Final = {"arm64": 183, "x86_64": 62}
"""e_machine of an ELF file built for each of Lambda's architectures."""
HOST_ARCHITECTURE: Final = {
    "aarch64": "arm64",
    "arm64": "arm64",
    "x86_64": "x86_64",
    "amd64": "x86_64",
}
"""This machine's name for its architecture -> Lambda's."""
PYC_HEADER_BYTES: Final = 16
UNCHECKED_HASH: Final = 0b01
"""The flags of a hash-based .pyc that is never checked against its source (PEP 552)."""
LAMBDA_RUNTIME_ENVIRONMENT: Final = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "_X_AMZN_TRACE_ID": (
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
    ),
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
}
"""What Lambda's python3.13 runtime sets for every function; credentials are DynamoDB Local's
dummies, the X-Ray daemon address is on loopback (nothing is sent: the trace is unsampled)."""
IMPORT_PROBE: Final = """
import importlib, importlib.machinery, json, sys
compiled = []
compile_source = importlib.machinery.SourceFileLoader.source_to_code
def source_to_code(loader, data, path, *args, **kwargs):
    compiled.append(path)
    return compile_source(loader, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = source_to_code
task_root = sys.argv[2]
sys.path.insert(0, task_root)
importlib.import_module(sys.argv[1])
packages = {
    name.partition(".")[0]
    for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(task_root)
}
print(json.dumps({"compiled": compiled, "packages": sorted(packages)}))
"""
"""Imports the handler module from the task root and says which modules were compiled from
source (none, when every .pyc is valid) and which top-level packages the task root provided."""


@dataclass(frozen=True)
class HandlerImport:
    compiled: list[str]
    """Source files compiled at import: each is a .pyc missing or not used."""
    packages: list[str]
    """Top-level packages and modules of the function's folder the handler imported."""


def sam_executable() -> Path:
    """``.venv-sam/bin/sam``, installed first when missing (once)."""
    sam = SAM_VENV / "bin" / "sam"
    if sam.exists():
        return sam
    python = str(python313() or sys.executable)
    print(
        f"  installing the SAM CLI into {SAM_VENV.name} with {python} (about a minute, once) ...",
        flush=True,
    )
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


def host_architecture() -> str:
    """This machine's architecture as Lambda names it: a package built for it runs here."""
    return HOST_ARCHITECTURE.get(platform.machine().lower(), platform.machine())


def sam_build(build_dir: Path, architecture: str = "arm64") -> None:
    """``sam build`` of template.yaml into ``build_dir`` for ``architecture`` (the template's
    parameter, and the Makefile's LAMBDA_ARCHITECTURE: SAM tells a Makefile nothing of it), with
    python3.13 first on PATH if there is one (the template's runtime), telemetry off."""
    path = os.environ.get("PATH", "")
    python = python313()
    if python is not None:
        path = os.pathsep.join([str(python.parent), path])
    print(f"  sam build ({architecture}, python3.13) ...", flush=True)
    completed = subprocess.run(  # noqa: S603 (our own tools, fixed arguments)
        [
            str(sam_executable()),
            "build",
            "--template-file",
            str(REPO_ROOT / "template.yaml"),
            "--build-dir",
            str(build_dir),
            "--parameter-overrides",
            f"Architecture={architecture}",
        ],
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "PATH": path,
            "SAM_CLI_TELEMETRY": "0",
            "LAMBDA_ARCHITECTURE": architecture,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"sam build failed:\n{completed.stdout[-2000:]}{completed.stderr[-3000:]}"
        )


def built_functions(template: Mapping[str, object]) -> list[str]:
    resources = template["Resources"]
    assert isinstance(resources, Mapping)
    return [
        function_id
        for function_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]


def handler_environment(function_id: str, task_root: Path) -> dict[str, str]:
    """What the function's process gets in Lambda, with local values (infra/env.json) for the
    template's variables: enough for its init, which needs no network."""
    return {
        **LAMBDA_RUNTIME_ENVIRONMENT,
        **function_environment(load_template(), function_id),
        "AWS_LAMBDA_FUNCTION_NAME": function_id,
        "LAMBDA_TASK_ROOT": str(task_root),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": os.environ.get("PATH", ""),
    }


def import_handler(
    python: Path, task_root: Path, module: str, env: Mapping[str, str]
) -> HandlerImport:
    """Imports ``module`` from ``task_root`` in a fresh ``python`` as Lambda's runtime does:
    no site-packages, nothing written."""
    completed = subprocess.run(  # noqa: S603 (a Python we found, a fixed probe)
        [str(python), "-S", "-c", IMPORT_PROBE, module, str(task_root)],
        cwd=task_root,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr[-3000:]}")
    found = json.loads(completed.stdout.splitlines()[-1])
    return HandlerImport(compiled=found["compiled"], packages=found["packages"])


def read_only_copy(folder: Path, target: Path) -> Path:
    """``folder`` copied to ``target`` with no write permission, as /var/task is."""
    shutil.copytree(folder, target, symlinks=True)
    for path in [target, *target.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~0o222)
    return target


def make_writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


def elf_machine(path: Path) -> int:
    with path.open("rb") as binary:
        header = binary.read(20)
    return int.from_bytes(header[18:20], "little")


def pyc_problems(folder: Path) -> list[str]:
    """Modules of ``folder`` without a Python 3.13 .pyc that is never checked against its source."""
    problems = []
    for source in sorted(folder.rglob("*.py")):
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not cached.exists():
            problems.append(f"no .pyc: {source.relative_to(folder)}")
            continue
        with cached.open("rb") as stream:
            header = stream.read(PYC_HEADER_BYTES)
        if int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            problems.append(f"not an unchecked-hash .pyc: {cached.relative_to(folder)}")
    return problems


def check_function(folder: Path, function_id: str, handler: str, architecture: str) -> list[str]:
    """What is wrong with a built function's folder (nothing, when it is right)."""
    problems = [f"{folder.name}: {problem}" for problem in pyc_problems(folder)[:3]]
    foreign = [
        str(library.relative_to(folder))
        for library in folder.rglob("*.so")
        if elf_machine(library) != ELF_MACHINES[architecture]
    ]
    if foreign:
        problems.append(f"{folder.name}: native code not built for {architecture}: {foreign[:3]}")
    python = python313()
    module = handler.rsplit(".", 1)[0]
    if python is None or architecture != host_architecture():
        # Its native code cannot load here: the handler is only looked for.
        found = (folder / Path(*module.split("."))).with_suffix(".py").exists()
        return problems if found else [*problems, f"{folder.name}: no {module}"]
    with tempfile.TemporaryDirectory() as temporary:
        task_root = read_only_copy(folder, Path(temporary) / "task")
        try:
            imported = import_handler(
                python, task_root, module, handler_environment(function_id, task_root)
            )
        except RuntimeError as error:
            problems.append(f"{folder.name}: {error}")
        else:
            if imported.compiled:
                problems.append(f"{folder.name}: compiled at import: {imported.compiled[:3]}")
        finally:
            make_writable(task_root)
    return problems


def main(arguments: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--architecture", choices=sorted(ELF_MACHINES), default="arm64")
    options = parser.parse_args(arguments)
    sam_build(BUILD_DIR, options.architecture)
    template = load_template()
    problems = []
    for function_id in built_functions(template):
        found = check_function(
            BUILD_DIR / function_id,
            function_id,
            function_handler(template, function_id),
            options.architecture,
        )
        problems += found
        print(f"  {function_id}: {'ok' if not found else 'FAILED'}")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
