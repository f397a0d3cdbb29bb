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

    if args.scenario == "compare":
        return _compare(args)
    if args.runs:
        raise SystemExit(f"unexpected arguments: {' '.join(args.runs)}")
    try:
        chosen = scenario(args.scenario)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    from loadtests.targets import target_of

    if args.rate is not None and args.rate <= 0:
        raise SystemExit("--rate must be positive")
    if args.local_processes is not None and args.target == "aws":
        raise SystemExit("--local-processes runs locust on this machine: local stack only")
    target = target_of(args.target, state_dir=args.state_dir, tokens_file=args.tokens_file)
    plan = LoadPlan.of(chosen, users=args.users, duration_s=args.duration, shape=args.shape,
                       rate=args.rate, report_root=args.report_dir,
                       thresholds_path=args.thresholds or judge.THRESHOLDS_PATH,
                       time_scale=target.time_scale if chosen.clock_scaled else 1.0,
                       baseline=args.baseline)
    if args.baseline is not None and not (args.baseline / "summary.json").exists():
        raise SystemExit(f"--baseline {args.baseline}: not a judged load run (no summary.json)")
    if not 5 <= plan.duration_s <= MAX_DURATION_S:
        raise SystemExit(f"--duration must be 5 to {MAX_DURATION_S} seconds")
    if args.local_processes is not None:
        from loadtests.runner import RunOptions, default_host, run

        return run(plan.extended(RunOptions, processes=args.local_processes,
                                 host=args.host or default_host(args.state_dir),
                                 state_dir=args.state_dir, check=args.check,
                                 settle_s=args.settle_seconds,
                                 confirm_deadline_s=args.confirm_deadline))
    from loadtests.ecs import EcsRun, run_on_ecs
    from localaws.loadgen import stack_name as loadgen_stack

    if args.workers < 1:
        raise SystemExit("--workers must be at least 1")
    stage = target.stage(args.stage)
    stack_name = args.stack_name or loadgen_stack(stage)
    return run_on_ecs(plan.extended(
        EcsRun, workers=args.workers, stack_name=stack_name, stage=stage,
        host=target.host(args.host),
        check=args.check, settle_s=args.settle_seconds,
        confirm_deadline_s=args.confirm_deadline), target)


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


def _compare(args: argparse.Namespace) -> int:
    """`itinera load compare A B`: B against A, exit 1 when B regressed."""
    from loadtests import judge
    from loadtests.compare import compare

    if len(args.runs) != 2:
        raise SystemExit("usage: itinera load compare RUN_A RUN_B (two run folders)")
    a, b = (Path(r) for r in args.runs)
    output, checks = compare(a, b, thresholds=args.thresholds or judge.THRESHOLDS_PATH)
    print(output)
    print(f"written: {b / 'compare.json'}, {b / 'compare.png'}")
    return 0 if all(c.passed for c in checks) else 1


def register(sub: Any) -> None:
    """Add `load` and `judge` to the command line."""
    load = sub.add_parser("load", help="run a load scenario headless and judge it",
                          description="Run locust headless as ECS tasks of the loadgen stack "
                                      "(a master and its workers; on the local stack's ECS "
                                      "stand-in, or on AWS Fargate), or as local processes, "
                                      "then judge the run: thresholds, invariants, report.")
    load.add_argument("scenario", help="browse, booking, flash-sale, checkout, scale or soak; "
                                       "`itinera load compare A B` compares two runs")
    load.add_argument("runs", nargs="*", metavar="RUN",
                      help="compare only: the reference run's folder, then the run judged")
    load.add_argument("--users", type=int, help="virtual travellers (default: the scenario's)")
    load.add_argument("--rate", type=float,
                      help="open model: journeys per second for all users together")
    load.add_argument("--duration", type=float,
                      help="seconds (default: the scenario's; scale's at the time scale)")
    load.add_argument("--shape", choices=["ramp", "step", "spike", "soak", "steady", "scale"],
                      help="how the users come and go (default: the scenario's)")
    load.add_argument("--workers", type=int, default=2,
                      help="locust worker tasks beside the master (ECS tasks)")
    load.add_argument("--local-processes", type=int, default=None, metavar="N",
                      help="the quick path: locust on this machine, not as ECS tasks, with N "
                           "worker processes (0: one process; this machine has few cores, "
                           "which the stack needs too)")
    load.add_argument("--host", help="gateway URL (default: the local stack's)")
    load.add_argument("--thresholds", type=Path, help="thresholds YAML "
                      "(default: loadtests/thresholds.yaml)")
    load.add_argument("--report-dir", type=Path, default=REPORT_ROOT,
                      help="where <timestamp>-<scenario>/ is written")
    load.add_argument("--baseline", type=Path, metavar="RUN",
                      help="a run folder to compare against: regressions beyond the "
                           "thresholds' regression: block fail this run")
    load.add_argument("--no-check", dest="check", action="store_false",
                      help="skip the invariant check after the run")
    load.add_argument("--settle-seconds", type=float, default=120.0,
                      help="how long in-flight checkouts may take to finish after the run")
    load.add_argument("--confirm-deadline", type=float, default=30.0,
                      help="seconds a booking may take to reach its terminal status")
    load.add_argument("--target", choices=["local", "aws"], default="local",
                      help="where the loadgen stack runs: the local stack (its ECS stand-in) "
                           "or AWS (credentials and region from the environment or profile)")
    load.add_argument("--stage", default=None,
                      help="the stage under load (default: the local stack's; on AWS, dev)")
    load.add_argument("--stack-name", default=None,
                      help="the stack deployed from infra/sam/loadgen.yaml "
                           "(default: itinera-loadgen-<stage>)")
    load.add_argument("--tokens-file", type=Path,
                      help="--target aws: pre-issued traveller tokens, one a line")
    load.set_defaults(func=_load)

    again = sub.add_parser("judge", help="judge a recorded load run again (e.g. new thresholds)")
    again.add_argument("folder", type=Path, help="reports/load/<timestamp>-<scenario>")
    again.add_argument("--thresholds", type=Path, help="thresholds YAML")
    again.set_defaults(func=_judge)
