"""The ``wix-fulfillment`` console script: its sub-commands, their help, and wrong input."""

from __future__ import annotations

import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from infra.commands import cli

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_cli(*argv: str) -> tuple[int, str, str]:
    completed = subprocess.run(
        [sys.executable, "-m", "infra.commands.cli", *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, completed.stdout, completed.stderr


def test_pyproject_declares_the_console_script() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    module_name, function_name = pyproject["project"]["scripts"]["wix-fulfillment"].split(":")

    assert getattr(importlib.import_module(module_name), function_name) is cli.main


def test_help_lists_every_command() -> None:
    code, printed, _ = run_cli("--help")

    assert code == 0
    assert printed.startswith("usage: wix-fulfillment ")
    for name in ("status", "list", "redrive"):
        assert f"    {name} " in printed


@pytest.mark.parametrize(
    ("command", "option"),
    [("status", "--local"), ("list", "--app-secret-arn"), ("redrive", "--dead-letter-file")],
)
def test_each_command_has_its_own_help(
    command: str, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])

    printed = capsys.readouterr().out
    assert exited.value.code == 0
    assert printed.startswith(f"usage: wix-fulfillment {command} ")
    assert option in printed


def test_an_unknown_command_is_refused_with_the_known_ones() -> None:
    code, printed, error = run_cli("stauts", "--local")

    assert code == 2
    assert printed == ""
    assert (
        "invalid choice: 'stauts' (choose from 'status', 'list', 'redrive', 'reconcile')" in error
    )


def test_no_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([])

    assert exited.value.code == 2
    assert "the following arguments are required: command" in capsys.readouterr().err


def test_options_reach_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["status", "--instance-id", "site", "--order-id", "order"])

    assert exited.value.code == 2
    assert "wix-fulfillment status: error: give --url" in capsys.readouterr().err


def test_a_commands_exit_code_is_the_scripts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An empty dead-letter file: nothing to redrive, and nothing is contacted."""
    code = cli.main(
        [
            "redrive",
            "--table",
            "OrdersTable",
            "--dead-letter-file",
            str(tmp_path / "none.jsonl"),
            "--endpoint-url",
            "http://127.0.0.1:9",
        ]
    )

    assert code == 0
    assert capsys.readouterr().out.startswith("redrive: 0 dead letters")
