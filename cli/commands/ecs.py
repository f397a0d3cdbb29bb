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


def _scaling(args: argparse.Namespace) -> int:
    """Suspend or resume the services' dynamic scaling, or show it: Application Auto
    Scaling's RegisterScalableTarget and DescribeScalableTargets, on AWS or the local stack."""
    from loadtests.targets import target_of

    target = target_of(args.target, state_dir=args.state_dir)
    client = target.client("application-autoscaling")
    cluster = f"itinera-{target.stage(args.stage)}"
    wanted = [f"service/{cluster}/{s}" for s in args.service] or None
    found = client.describe_scalable_targets(
        ServiceNamespace="ecs", **({"ResourceIds": wanted} if wanted else {}))["ScalableTargets"]
    found = [t for t in found if t["ResourceId"].startswith(f"service/{cluster}/")]
    missing = sorted(set(wanted or []) - {t["ResourceId"] for t in found})
    if missing or not found:
        print(f"no scalable target {', '.join(missing) or f'of cluster {cluster}'}")
        return 1
    for scalable in found:
        if args.action != "show":
            suspended = args.action == "suspend"
            client.register_scalable_target(
                ServiceNamespace="ecs", ResourceId=scalable["ResourceId"],
                ScalableDimension=scalable["ScalableDimension"],
                SuspendedState={"DynamicScalingOutSuspended": suspended,
                                "DynamicScalingInSuspended": suspended})
            scalable["SuspendedState"] = {"DynamicScalingOutSuspended": suspended,
                                          "DynamicScalingInSuspended": suspended}
        state = scalable.get("SuspendedState") or {}
        paused = [side for side, key in (("out", "DynamicScalingOutSuspended"),
                                         ("in", "DynamicScalingInSuspended")) if state.get(key)]
        print(f"{scalable['ResourceId']}: {scalable['MinCapacity']}-"
              f"{scalable['MaxCapacity']} tasks, dynamic scaling "
              + (f"{' and '.join(paused)} suspended" if paused else "active"))
    return 0


def register(sub: Any) -> None:
    """Add `status`, `az` and `scaling` to the command line."""
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

    scaling = sub.add_parser("scaling", help="suspend, resume or show the ECS services' "
                                             "dynamic scaling (Application Auto Scaling)")
    scaling.add_argument("action", choices=["show", "suspend", "resume"])
    scaling.add_argument("--service", action="append", default=[],
                         help="a service (repeat; default: every service of the stage)")
    scaling.add_argument("--target", choices=["local", "aws"], default="local")
    scaling.add_argument("--stage", default=None,
                         help="default: the local stack's; on AWS, dev")
    scaling.set_defaults(func=_scaling)
