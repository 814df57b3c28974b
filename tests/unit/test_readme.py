"""The README is a true map: every path its folder tree names exists, every top-level folder of
functions/, infra/ and tests/ is named, and every docs/ link points at a file."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def tree_block() -> str:
    return README.split("## Where things are", 1)[1].split("```", 2)[1]


ENTRY = re.compile(r"( *)([^\s,]+(?:, [^\s,]+)*)(.*)")
DESCRIPTION_INDENT = 20
"""Lines indented this far continue the description of the entry above them."""
DESCRIBED_NAME = re.compile(r"(?<![\w/.{-])([\w-]+(?:\.[a-z]+)+|[\w-]+/)")
"""A file (``model.py``) or folder (``seed/``) a folder's description names inside it."""


def tree_paths() -> set[str]:
    """The paths of the tree under "Where things are", as the repository spells them: each
    entry, nested by indentation, and each file or folder a folder's description names."""
    paths: set[str] = set()
    parents: list[tuple[int, str]] = []
    folder: str | None = None
    for line in tree_block().splitlines():
        match = ENTRY.match(line)
        if not match:
            continue
        indent, names, rest = len(match.group(1)), match.group(2), match.group(3)
        if indent >= DESCRIPTION_INDENT:
            description = line
        else:
            parents = [(depth, path) for depth, path in parents if depth < indent]
            base = parents[-1][1] if parents else ""
            for name in names.rstrip(",").split(","):
                paths.add(base + name.strip().rstrip("/"))
            folder = base + names if names.endswith("/") and "," not in names else None
            if folder is not None:
                parents.append((indent, folder))
            description = rest
        if folder is not None:
            paths.update(folder + name.rstrip("/") for name in DESCRIBED_NAME.findall(description))
    return paths


def test_the_tree_reads_names_from_descriptions() -> None:
    paths = tree_paths()

    assert "functions/wix_fulfillment/core/model.py" in paths
    assert "infra/samples/dev_keys" in paths
    assert "tests/support" in paths


def test_every_path_the_tree_names_exists() -> None:
    missing = sorted(path for path in tree_paths() if not (REPO_ROOT / path).exists())

    assert missing == []


def _folders(top: str) -> list[str]:
    return [
        f"{top}/{child.name}"
        for child in (REPO_ROOT / top).iterdir()
        if child.is_dir()
        and not child.name.startswith(("__", "."))
        and not child.name.endswith(".egg-info")
    ]


def test_the_tree_names_every_folder_of_the_code() -> None:
    named = tree_paths()
    folders = [
        folder
        for top in ("functions", "functions/wix_fulfillment", "infra", "tests")
        for folder in _folders(top)
    ]

    assert sorted(folder for folder in folders if folder not in named) == []


def test_the_tree_names_every_module_of_the_lambda_code() -> None:
    named = tree_paths()
    package = REPO_ROOT / "functions" / "wix_fulfillment"
    modules = [
        path.relative_to(REPO_ROOT).as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    ]

    assert sorted(module for module in modules if module not in named) == []


def test_every_docs_link_points_at_a_file() -> None:
    links = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md|LICENSE)\)", README)

    assert links
    assert sorted(link for link in links if not (REPO_ROOT / link).exists()) == []


def test_the_readmes_first_commands_are_make_targets_the_tests_run() -> None:
    """The two commands first: `make test` is what CI runs (.ci/run), `make demo`'s module an e2e
    test runs; the sam local section's commands are checked by test_readme_sam_commands."""
    first_block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = re.findall(r"(?m)^([a-z][a-z0-9-]*):", makefile)

    assert [command for command in commands if command] == ["make demo", "make test"]
    assert {"demo", "test"} <= set(targets)
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
    e2e = (REPO_ROOT / "tests" / "e2e" / "test_local_stack.py").read_text()
    [demo_recipe] = re.findall(r"(?m)^demo:.*\n\t(.*)", makefile)
    assert "-m infra.scenarios.demo" in demo_recipe
    assert '"-m", "infra.scenarios.demo"' in e2e
