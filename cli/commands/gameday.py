"""`itinera gameday run|list|abort`: chaos game days on the local stack (or AWS FIS)."""

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


def _run(args: argparse.Namespace) -> int:
    if args.target == "aws":
        import boto3

        from chaos.gameday.aws import run_on_aws

        return run_on_aws(boto3.client("fis"), stage=args.stage, experiment=args.experiment)
    from chaos.gameday import report
    from chaos.gameday.run import GamedayOptions, run_local, summary
    from localaws.record import read_record

    try:
        result = run_local(GamedayOptions(
            experiment=args.experiment, state_dir=args.state_dir, report_root=args.report_dir,
            load=args.load, duration_s=args.duration, users=args.users, target_az=args.az,
            settle_s=args.settle_seconds))
    except (KeyboardInterrupt, asyncio.CancelledError):
        # The runner stopped the experiment on its way out; FIS rolls its faults back.
        print("itinera gameday: interrupted; the experiment was stopped (FIS rolls its faults "
              "back); no verdict")
        return 130
    report.write(result, args.state_dir, read_record(args.state_dir))
    doc = summary(result)
    for h in doc["hypotheses"]:
        print(f"  {h['phase']:6} {h['expected']:40} observed {h['observed']}: "
              f"{'holds' if h['holds'] else 'BREACHED'}")
    print(f"itinera gameday {result.experiment.name}: {doc['verdict'].upper()} (experiment "
          f"{doc['state']}{', ' + doc['reason'] if doc['reason'] else ''}; invariants hold: "
          f"{doc['invariants']['holds']})\nreport: {result.folder}/report.md, index.html")
    return 0 if result.passed else 1


def _abort(args: argparse.Namespace) -> int:
    from chaos.gameday.fis import abort

    if args.target == "aws":
        import boto3

        fis = boto3.client("fis")
    else:
        from localaws.record import read_record

        fis = read_record(args.state_dir).client("fis")
    stopped = abort(fis)
    print("\n".join(f"stopped {s}" for s in stopped) or "no experiment was running")
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
                     help="local: the running local stack (started with --fault-proxies); "
                          "aws: the deployed template in AWS FIS")
    run.add_argument("--load", help="load scenario (default: the experiment's)")
    run.add_argument("--duration", type=float,
                     help="seconds of load (default: the experiment's, time-scaled, >= 20)")
    run.add_argument("--users", type=int, help="load users (default: the scenario's, <= 20)")
    run.add_argument("--az", default="az-a", help="the experiment's TargetAz")
    run.add_argument("--stage", default="dev", help="--target aws: the deployed stage")
    run.add_argument("--settle-seconds", type=float, default=None,
                     help="how long in-flight checkouts may take before the invariant check "
                          "(default: the experiment's itinera.local.settle_s, else 120)")
    run.add_argument("--report-dir", type=Path, default=REPORT_ROOT,
                     help="where <timestamp>-<experiment>/ is written")
    run.set_defaults(func=_run)
    stop = inner.add_parser("abort", help="stop every running FIS experiment (each rolls back)")
    stop.add_argument("--target", choices=["local", "aws"], default="local",
                      help="local: the running local stack's FIS; aws: AWS FIS")
    stop.set_defaults(func=_abort)
