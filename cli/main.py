"""The `itinera` command; each area registers its subcommands from `cli.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

# One module per area, so work on one area does not touch another's commands.
COMMAND_MODULES = [
    "cli.commands.stack",
    "cli.commands.inventory",
    "cli.commands.checkout",
    "cli.commands.bench",
    "cli.commands.load",
    "cli.commands.web",
    "cli.commands.dashboard",
    "cli.commands.ecs",
    "cli.commands.gameday",
    "cli.commands.render",
]


def parser() -> argparse.ArgumentParser:
    """Return the command line parser."""
    from localaws.config import ROOT

    top = argparse.ArgumentParser(prog="itinera", description="Itinera operations.")
    top.add_argument("--state-dir", type=Path, default=ROOT / ".local",
                     help="the local stack's folder for keys, logs and private servers")
    sub = top.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return top


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `itinera` command."""
    args = parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
