"""Every command of the README's ``sam local`` section is one the SAM tests run as written
(``tests/sam/``): the README cannot drift from what is tested."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SECTION_TITLE = "## Invoke locally with `sam local invoke`"
TRAILING_COMMENT = re.compile(r"\s{2,}#.*$")


def readme_sam_commands() -> list[str]:
    """The section's shell commands: continued lines joined, comments dropped, spaces evened."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index(SECTION_TITLE)
    end = readme.find("\n## ", start + len(SECTION_TITLE))
    section = readme[start : end if end != -1 else len(readme)]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL):
        joined = re.sub(r"\\\n", " ", block)
        for line in joined.splitlines():
            command = TRAILING_COMMENT.sub("", line).strip()
            if command and not command.startswith("#"):
                commands.append(" ".join(command.split()))
    return commands


def strings_in_sam_tests() -> set[str]:
    """Every string literal of the SAM tests (adjacent ones joined), spaces evened."""
    strings = set()
    for path in (REPO_ROOT / "tests" / "sam").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                strings.add(" ".join(node.value.split()))
    return strings


def test_the_readme_sam_local_section_has_commands() -> None:
    commands = readme_sam_commands()

    assert any(command.startswith("sam local invoke") for command in commands), commands
    assert any(command.startswith("sam local start-api") for command in commands), commands


def test_every_readme_sam_local_command_is_run_as_written_by_the_sam_tests() -> None:
    untested = [
        command for command in readme_sam_commands() if command not in strings_in_sam_tests()
    ]

    assert untested == [], "README commands no test in tests/sam/ runs as written"
