"""The README is a true map: every path its folder tree names exists, every top-level folder of
functions/, infra/ and tests/ is named, and every docs/ link points at a file."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def tree_block() -> str:
    return README.split("## Where things are", 1)[1].split("```", 2)[1]


def tree_paths() -> set[str]:
    """The paths of the tree under "Where things are", as the repository spells them."""
    block = tree_block()
    paths: set[str] = set()
    parents: list[tuple[int, str]] = []
    for line in block.splitlines():
        match = re.match(r"( *)([^\s,]+(?:, [^\s,]+)*)", line)
        if not match or len(match.group(1)) >= 20:
            continue
        indent, names = len(match.group(1)), match.group(2)
        parents = [(depth, path) for depth, path in parents if depth < indent]
        base = parents[-1][1] if parents else ""
        for name in names.rstrip(",").split(","):
            path = base + name.strip().rstrip("/")
            paths.add(path)
        if names.endswith("/"):
            parents.append((indent, base + names))
    return paths


def test_every_path_the_tree_names_exists() -> None:
    missing = sorted(path for path in tree_paths() if not (REPO_ROOT / path).exists())

    assert missing == []


def test_the_tree_names_every_folder_of_the_code() -> None:
    named = tree_paths()
    folders = [
        f"{top}/{child.name}"
        for top in ("infra", "functions/wix_fulfillment")
        for child in (REPO_ROOT / top).iterdir()
        if child.is_dir() and not child.name.startswith(("__", "."))
    ]
    test_folders = [
        f"{child.name}/"
        for child in (REPO_ROOT / "tests").iterdir()
        if child.is_dir() and not child.name.startswith(("__", "."))
    ]

    assert sorted(folder for folder in folders if folder not in named) == []
    assert sorted(name for name in test_folders if name not in tree_block()) == []


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
