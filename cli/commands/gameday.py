"""`itinera gameday run|list|abort`: chaos game days, one runner for the local stack and AWS."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from localaws.config import ROOT

REPORT_ROOT = ROOT / "reports" / "gamedays"


def _list(args: argparse.Namespace) -> int:
    from chaos.experiments import load_experiments

    for e in load_experiments():
        ids = sorted({a["actionId"] for a in e.template["actions"].values()})
        print(f"{e.name:34} load {e.load:9} {e.duration_s:4d} s  {', '.join(ids)}")
    return 0


def _target(args: argparse.Namespace) -> Any:
    from loadtests.targets import target_of

    return target_of(args.target, state_dir=args.state_dir, region=args.region,
                     tokens_file=getattr(args, "tokens_file", None))


def _run(args: argparse.Namespace) -> int:
    from chaos.gameday import report
    from chaos.gameday.run import GamedayOptions, run_gameday, summary

    target = _target(args)
    try:
        result = run_gameday(GamedayOptions(
            experiment=args.experiment, report_root=args.report_dir, load=args.load,
            duration_s=args.duration, users=args.users, workers=args.workers,
            target_az=args.az, settle_s=args.settle_seconds, stage=args.stage,
            host=args.host), target)
    except (KeyboardInterrupt, asyncio.CancelledError):
        # The runner stopped the experiment and the load on its way out; FIS rolls back.
        print("itinera gameday: interrupted; the experiment (FIS rolls its faults back) and "
              "the load were stopped; no verdict")
        return 130
    report.write(result, target.client("cloudwatch"))
    doc = summary(result)
    for h in doc["hypotheses"]:
        print(f"  {h['phase']:6} {h['expected']:40} observed {h['observed']}: "
              f"{'holds' if h['holds'] else 'BREACHED'}")
    if result.load_stopped:
        print("  the load was stopped with the experiment")
    print(f"itinera gameday {result.experiment.name}: {doc['verdict'].upper()} (experiment "
          f"{doc['state']}{', ' + doc['reason'] if doc['reason'] else ''}; invariants hold: "
          f"{doc['invariants']['holds']})\nreport: {result.folder}/report.md, index.html, "
          f"junit.xml")
    return 0 if result.passed else 1


def _abort(args: argparse.Namespace) -> int:
    from chaos.gameday.fis import abort
    from loadtests.ecs import stop_runs

    target = _target(args)
    stopped = abort(target.client("fis"))
    tasks = stop_runs(target, f"itinera-loadgen-{target.stage(args.stage)}",
                      reason="itinera gameday abort")
    print("\n".join([*(f"stopped experiment {s}" for s in stopped),
                     *(f"stopped load task {t}" for t in tasks)])
          or "no experiment or load task was running")
    return 0


def register(sub: Any) -> None:
    """Add `gameday` with `run`, `list` and `abort` to the command line."""
    gameday = sub.add_parser("gameday", help="chaos game days: FIS experiments under load")
    inner = gameday.add_subparsers(dest="gameday_command", required=True)
    listing = inner.add_parser("list", help="the experiments in chaos/experiments/")
    listing.set_defaults(func=_list)
    run = inner.add_parser("run", help="run one experiment under load and judge it")
    run.add_argument("experiment", help="a name from `itinera gameday list`")
    run.add_argument("--target", choices=["local", "aws"], default="local",
                     help="where the same calls go: the running local stack (started with "
                          "--fault-proxies) or AWS (credentials and region from the "
                          "environment or profile)")
    run.add_argument("--load", help="load scenario (default: the experiment's)")
    run.add_argument("--duration", type=float,
                     help="seconds of load (default: the experiment's, time-scaled, >= 20)")
    run.add_argument("--users", type=int, help="load users (default: the scenario's, <= 20)")
    run.add_argument("--workers", type=int, default=2, help="locust worker tasks")
    run.add_argument("--az", default=None,
                     help="the AZ to impair (default: the deployed template's TargetAz)")
    run.add_argument("--stage", default=None,
                     help="the stage (default: the local stack's; on AWS, dev)")
    run.add_argument("--region", default=None, help="--target aws: the region")
    run.add_argument("--host", default=None,
                     help="the stack's public URL (default: the local gateway; on AWS, "
                          "required: https://<WebUrl>)")
    run.add_argument("--tokens-file", type=Path, default=None,
                     help="--target aws: pre-issued traveller tokens, one a line")
    run.add_argument("--settle-seconds", type=float, default=None,
                     help="how long in-flight checkouts may take before the invariant check "
                          "(default: the experiment's itinera.local.settle_s, else 120)")
    run.add_argument("--report-dir", type=Path, default=REPORT_ROOT,
                     help="where <timestamp>-<experiment>/ is written")
    run.set_defaults(func=_run)
    stop = inner.add_parser("abort", help="stop every running FIS experiment (each rolls "
                                          "back) and every load task")
    stop.add_argument("--target", choices=["local", "aws"], default="local",
                      help="local: the running local stack; aws: AWS")
    stop.add_argument("--stage", default=None, help="the stage (default: as for run)")
    stop.add_argument("--region", default=None, help="--target aws: the region")
    stop.set_defaults(func=_abort)
