"""`itinera status` and `itinera az`: the local ECS services, and the simulated AZs."""

from __future__ import annotations

import argparse
import json
from typing import Any


def _status(args: argparse.Namespace) -> int:
    from localaws.ecs.status import status, table

    try:
        report = status(args.state_dir)
    except RuntimeError as exc:
        print(f"itinera status: {exc}")
        return 1
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


def _az(args: argparse.Namespace) -> int:
    from localaws.ecs.azs import set_az_available

    state = set_az_available(args.state_dir, args.az, args.state == "up",
                             reason=args.reason, stop_tasks=not args.keep_tasks)
    print(", ".join(f"{az}: {'available' if s['available'] else 'unavailable'}"
                    for az, s in state.items()))
    return 0


def register(sub: Any) -> None:
    """Add `status` and `az` to the command line."""
    status = sub.add_parser("status", help="ECS services, tasks, AZs, scaling and LB health "
                                           "of the running local stack")
    status.add_argument("--json", action="store_true", help="print JSON instead of tables")
    status.set_defaults(func=_status)

    az = sub.add_parser("az", help="mark a simulated AZ unavailable (down) or available (up)")
    az.add_argument("state", choices=["down", "up"])
    az.add_argument("az", help="az-a or az-b")
    az.add_argument("--reason", default="", help="why, for the record")
    az.add_argument("--keep-tasks", action="store_true",
                    help="with down: only stop placing tasks there; by default the tasks "
                         "running there stop too, as in an AZ power loss")
    az.set_defaults(func=_az)
