"""``make lambda-image``: a local stand-in for AWS's ``public.ecr.aws/lambda/python:3.13`` image,
for machines that cannot pull it. ``sam local invoke`` and ``sam local start-api`` take it with
``--invoke-image <image> --skip-pull-image`` and add their runtime interface emulator on top.
Users who can pull AWS's image never need it.

It is made from Debian packages and PyPI only: a Debian trixie root file system (python3.13) from
``debootstrap``, the pinned runtime interface client of ``infra/sam/image/requirements.txt`` under
``/var/runtime``, and ``infra/sam/image/bootstrap`` as ``/var/runtime/bootstrap``. It is built for
this machine's architecture (run the functions with ``Architecture`` set to match) and rebuilt
only when its inputs change: the image carries their digest in a label.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

INPUTS_DIR: Final = Path(__file__).resolve().parent / "image"
REQUIREMENTS: Final = INPUTS_DIR / "requirements.txt"
BOOTSTRAP: Final = INPUTS_DIR / "bootstrap"
REPOSITORY: Final = "wix-fulfillment/lambda-python3.13-standin"
INPUTS_LABEL: Final = "wix-fulfillment.lambda-image.inputs"
SUITE: Final = "trixie"
PACKAGES: Final = ("python3.13", "ca-certificates")
DEFAULT_MIRROR: Final = "http://deb.debian.org/debian"
DEBOOTSTRAP_CACHE: Final = Path("/var/cache/wix-fulfillment/debootstrap")
"""Debian's packages, kept for the next build (when the inputs change)."""
APT_SOURCES: Final = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
TRIMMED: Final = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "var/cache/apt",
    "var/lib/apt/lists",
)
IMAGE_ENV: Final = {
    "LANG": "C.UTF-8",
    "TZ": ":/etc/localtime",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
}
MACHINES: Final = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
"""This machine's name for its architecture -> Lambda's."""
DEBIAN_ARCH: Final = {"x86_64": "amd64", "arm64": "arm64"}
WHEEL_PLATFORM: Final = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}


def lambda_architecture() -> str:
    """This machine's architecture as Lambda names it (``x86_64`` or ``arm64``): the functions'
    ``Architecture`` for running them natively in the stand-in."""
    machine = platform.machine().lower()
    if machine not in MACHINES:
        raise RuntimeError(f"no Lambda architecture for this machine ({machine})")
    return MACHINES[machine]


def image_name(architecture: str | None = None) -> str:
    return f"{REPOSITORY}:{architecture or lambda_architecture()}"


def inputs_digest(architecture: str) -> str:
    """What the image is made of, hashed: the recipe's settings and its input files."""
    recipe = json.dumps(
        {"suite": SUITE, "packages": PACKAGES, "env": IMAGE_ENV, "architecture": architecture},
        sort_keys=True,
    ).encode()
    digest = hashlib.sha256(recipe)
    for path in (REQUIREMENTS, BOOTSTRAP):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def apt_mirror() -> str:
    """The Debian mirror apt is configured with on this machine (deb822 ``URIs:`` or one-line
    ``deb`` sources), or Debian's own redirector when there is none."""
    files: list[Path] = []
    for source in APT_SOURCES:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        elif source.is_file():
            files.append(source)
    pattern = re.compile(
        r"^(?:URIs:\s*|deb\s+(?:\[[^]]*]\s+)?)(\S+/debian)/?(?:\s|$)", re.MULTILINE
    )
    for path in files:
        found = pattern.search(path.read_text(errors="replace"))
        if found:
            return found.group(1)
    return DEFAULT_MIRROR


def docker(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (the docker CLI, our own arguments)
        ["docker", *arguments],  # noqa: S607 (docker from PATH, as SAM finds it)
        capture_output=True,
        text=True,
        check=check,
    )


def docker_engine_problem() -> str | None:
    """Why no Docker engine can run containers here (None when one answers)."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    try:
        completed = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],  # noqa: S607 (docker from PATH)
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "the Docker engine did not answer docker info within 20 s"
    if completed.returncode != 0 or not completed.stdout.strip():
        reason = (completed.stderr.strip() or completed.stdout.strip()).splitlines()
        return f"no Docker engine answers ({reason[-1] if reason else 'docker info failed'})"
    return None


def built_digest(image: str) -> str | None:
    """The inputs digest the image was built from (None when there is no such image)."""
    completed = docker(
        "image",
        "inspect",
        "--format",
        f'{{{{ index .Config.Labels "{INPUTS_LABEL}" }}}}',
        image,
        check=False,
    )
    return completed.stdout.strip() if completed.returncode == 0 else None


def make_root_file_system(root: Path, architecture: str, mirror: str) -> None:
    """Debian trixie with python3.13, the runtime interface client and the bootstrap."""
    if os.geteuid() != 0 or shutil.which("debootstrap") is None:
        raise RuntimeError("building the Lambda stand-in image needs root and debootstrap")
    DEBOOTSTRAP_CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 (debootstrap, our own arguments)
        [  # noqa: S607 (debootstrap from PATH)
            "debootstrap",
            "--variant=minbase",
            f"--cache-dir={DEBOOTSTRAP_CACHE}",
            f"--arch={DEBIAN_ARCH[architecture]}",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            mirror,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(  # noqa: S603 (our own pip, pinned and hashed requirements)
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--require-hashes",
            "--only-binary=:all:",
            f"--platform={WHEEL_PLATFORM[architecture]}",
            "--python-version=3.13",
            "--implementation=cp",
            f"--target={root / 'var' / 'runtime'}",
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    shutil.copy(BOOTSTRAP, root / "var" / "runtime" / "bootstrap")
    (root / "var" / "runtime" / "bootstrap").chmod(0o755)
    (root / "var" / "task").mkdir(parents=True, exist_ok=True)
    for trimmed in TRIMMED:
        shutil.rmtree(root / trimmed, ignore_errors=True)


def import_image(root: Path, image: str, digest: str) -> None:
    changes = [f"ENV {name}={value}" for name, value in IMAGE_ENV.items()]
    changes += ["WORKDIR /var/task", f"LABEL {INPUTS_LABEL}={digest}"]
    tar = subprocess.Popen(  # noqa: S603 (tar, our own arguments)
        ["tar", "--numeric-owner", "-C", str(root), "-cf", "-", "."],  # noqa: S607 (tar from PATH)
        stdout=subprocess.PIPE,
    )
    imported = subprocess.run(  # noqa: S603 (the docker CLI, our own arguments)
        ["docker", "import", *[f"--change={change}" for change in changes], "-", image],  # noqa: S607
        stdin=tar.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    if tar.wait() != 0 or imported.returncode != 0:
        raise RuntimeError(f"docker import of {image} failed: {imported.stderr.strip()}")


def ensure_image(architecture: str | None = None, mirror: str | None = None) -> str:
    """The stand-in image's name, built first when it is missing or its inputs changed."""
    architecture = architecture or lambda_architecture()
    if architecture != lambda_architecture():
        raise RuntimeError(f"the stand-in is built for this machine only ({lambda_architecture()})")
    image = image_name(architecture)
    digest = inputs_digest(architecture)
    if built_digest(image) == digest:
        return image
    print(f"  building {image} (a stand-in for public.ecr.aws/lambda/python:3.13) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="lambda-image-") as work:
        root = Path(work) / "rootfs"
        make_root_file_system(root, architecture, mirror or apt_mirror())
        import_image(root, image, digest)
    # SAM builds its emulator image from this one once and keeps it: a stale one must go.
    docker("image", "rm", f"{REPOSITORY}:rapid-{architecture}", check=False)
    print(f"  {image} built", flush=True)
    return image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", help="Debian mirror (default: the one apt is configured with)")
    arguments = parser.parse_args()
    print(ensure_image(mirror=arguments.mirror))
    return 0


if __name__ == "__main__":
    sys.exit(main())
