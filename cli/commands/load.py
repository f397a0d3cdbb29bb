"""`itinera load` and `itinera judge`: load runs that judge themselves, and re-judging one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from localaws.config import ROOT

REPORT_ROOT = ROOT / "reports" / "load"


def _load(args: argparse.Namespace) -> int:
    from loadtests import judge
    from loadtests.plan import LoadPlan
    from loadtests.scenarios import scenario
    from loadtests.shapes import MAX_DURATION_S

    try:
        chosen = scenario(args.scenario)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    if args.rate is not None and args.rate <= 0:
        raise SystemExit("--rate must be positive")
    plan = LoadPlan.of(chosen, users=args.users, duration_s=args.duration, shape=args.shape,
                       rate=args.rate, report_root=args.report_dir,
                       thresholds_path=args.thresholds or judge.THRESHOLDS_PATH)
    if not 5 <= plan.duration_s <= MAX_DURATION_S:
        raise SystemExit(f"--duration must be 5 to {MAX_DURATION_S} seconds")
    if args.target == "aws":
        from loadtests.aws import AwsRun, run_on_aws

        return run_on_aws(plan.extended(AwsRun, workers=args.workers,
                                        stack_name=args.stack_name, host=args.host,
                                        tokens_file=args.tokens_file))
    from loadtests.runner import RunOptions, default_host, run

    return run(plan.extended(RunOptions, processes=args.processes,
                             host=args.host or default_host(args.state_dir),
                             state_dir=args.state_dir, check=args.check,
                             settle_s=args.settle_seconds,
                             confirm_deadline_s=args.confirm_deadline))


def _judge(args: argparse.Namespace) -> int:
    from loadtests import judge, summary
    from loadtests.invariants import InvariantResult
    from loadtests.runner import judge_folder
    from operations.check import Violation

    before: dict[str, Any] = json.loads((args.folder / "summary.json").read_text())
    inv = before["invariants"]
    invariants = InvariantResult(
        ran=inv["ran"], reason=inv["reason"], error=inv.get("error", ""),
        attempts=inv["attempts"], seconds=inv["seconds"],
        violations=[Violation(v["invariant"], v["detail"]) for v in inv["violations"]])
    path = args.thresholds or judge.THRESHOLDS_PATH
    extra = {k: v for k, v in before.items() if k in ("run_id", "started_at", "finished_at",
                                                      "error", "machine", "command")}
    result = judge_folder(args.folder, scenario=before["scenario"],
                          thresholds=judge.load_thresholds(before["scenario"], path),
                          parameters={**before["parameters"], "thresholds_file": str(path)},
                          invariants=invariants, extra=extra, plots=False)
    print(summary.table(result))
    return 0 if result["verdict"] == "pass" else 1


def register(sub: Any) -> None:
    """Add `load` and `judge` to the command line."""
    load = sub.add_parser("load", help="run a load scenario headless and judge it",
                          description="Run locust headless against the local stack (or on "
                                      "AWS), then judge the run: thresholds, invariants, report.")
    load.add_argument("scenario", help="browse, booking, flash-sale or soak")
    load.add_argument("--users", type=int, help="virtual travellers (default: the scenario's)")
    load.add_argument("--rate", type=float,
                      help="open model: journeys per second for all users together")
    load.add_argument("--duration", type=float, help="seconds (default: the scenario's)")
    load.add_argument("--shape", choices=["ramp", "step", "spike", "soak", "steady"],
                      help="how the users come and go (default: the scenario's)")
    load.add_argument("--processes", type=int, default=0,
                      help="locust worker processes (0: one process; this machine has few "
                           "cores, which the stack needs too)")
    load.add_argument("--host", help="gateway URL (default: the local stack's)")
    load.add_argument("--thresholds", type=Path, help="thresholds YAML "
                      "(default: loadtests/thresholds.yaml)")
    load.add_argument("--report-dir", type=Path, default=REPORT_ROOT,
                      help="where <timestamp>-<scenario>/ is written")
    load.add_argument("--no-check", dest="check", action="store_false",
                      help="skip the invariant check after the run")
    load.add_argument("--settle-seconds", type=float, default=120.0,
                      help="how long in-flight checkouts may take to finish after the run")
    load.add_argument("--confirm-deadline", type=float, default=30.0,
                      help="seconds a booking may take to reach its terminal status")
    load.add_argument("--target", choices=["local", "aws"], default="local",
                      help="aws: run on the loadgen stack's Fargate master and workers")
    load.add_argument("--stack-name", default="itinera-loadgen-dev",
                      help="--target aws: the stack deployed from infra/sam/loadgen.yaml")
    load.add_argument("--workers", type=int, default=4, help="--target aws: worker tasks")
    load.add_argument("--tokens-file", type=Path,
                      help="--target aws: pre-issued traveller tokens, one a line")
    load.set_defaults(func=_load)

    again = sub.add_parser("judge", help="judge a recorded load run again (e.g. new thresholds)")
    again.add_argument("folder", type=Path, help="reports/load/<timestamp>-<scenario>")
    again.add_argument("--thresholds", type=Path, help="thresholds YAML")
    again.set_defaults(func=_judge)
