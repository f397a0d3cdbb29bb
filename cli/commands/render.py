"""`itinera render monitoring|chaos [--check]`: the generated parts of the SAM templates."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _generators() -> dict[str, tuple[Path, Callable[[str], str], str]]:
    from chaos import render as chaos
    from dashboards import template as monitoring

    return {"monitoring": (monitoring.TEMPLATE, monitoring.wanted, "dashboards/*.yaml"),
            "chaos": (chaos.TEMPLATE, chaos.wanted, "chaos/experiments/")}


def _render(args: argparse.Namespace) -> int:
    template, wanted, source = _generators()[args.what]
    current = template.read_text()
    text = wanted(current)
    if args.check:
        if text != current:
            print(f"{template.name} is stale against {source}: run `make {args.what}`",
                  file=sys.stderr)
            return 1
        return 0
    template.write_text(text)
    return 0


def register(sub: Any) -> None:
    """Add `render` to the command line."""
    render = sub.add_parser("render", help="write the generated sections of infra/sam/ "
                                           "(alarms and dashboards; FIS experiments)")
    render.add_argument("what", choices=["monitoring", "chaos"])
    render.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the template is stale")
    render.set_defaults(func=_render)
