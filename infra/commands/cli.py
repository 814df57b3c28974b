"""``wix-fulfillment``: the operator commands behind one console script, so users type a command
name rather than a module path. Each command keeps its own options (``<command> --help``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Final

from infra.commands import list_fulfillments, order_status, reconcile, redrive

PROG: Final = "wix-fulfillment"

Command = Callable[[list[str] | None, str | None], int]
"""A command's ``main(argv, prog)``: it parses its own options and returns the exit code."""

COMMANDS: Final[dict[str, tuple[Command, str]]] = {
    "status": (order_status.main, "an order's status: our record and Wix's fulfillments"),
    "list": (list_fulfillments.main, "an order's fulfillments, as Wix lists them"),
    "redrive": (redrive.main, "send the orders of dead-lettered batches through the worker again"),
    "reconcile": (reconcile.main, "take in a site's orders of a window that no webhook brought"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Operator commands for the Wix order fulfillment stack.",
        epilog=f"`{PROG} <command> --help` lists a command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, (_, summary) in COMMANDS.items():
        # Only the name is parsed here: the command's own parser reads the rest.
        commands.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    name = _parser().parse_args(arguments[:1]).command
    command, _ = COMMANDS[name]
    return command(arguments[1:], f"{PROG} {name}")


if __name__ == "__main__":
    sys.exit(main())
