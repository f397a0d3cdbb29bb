"""`itinera gameday run`: one runner for the local stack and AWS. The target chooses the
endpoints and credentials (loadtests/targets.py); every step is the same AWS call on both.

1. Steady state: the experiment's stop-condition alarms (CloudWatch DescribeAlarms) must be
   OK, or the game day refuses to start, as FIS would.
2. Load: a locust master and workers as ECS tasks of the loadgen stack (loadtests/ecs.py).
3. Experiment: the deployed template (found by its Name tag) copied for the run, aimed at
   the run's AZ, started through FIS after a baseline; followed to its end.
4. Judging: the load's own results (downloaded from the results bucket) and the stop-condition
   alarms' transitions (CloudWatch DescribeAlarmHistory) per phase, the invariant check, and
   the verdict; report.md (with the alarm timeline and CloudWatch series), index.html,
   result.json and junit.xml.

Ctrl-C, SIGTERM or `itinera gameday abort` stop the experiment (FIS rolls it back) and the
load; a stop condition that fires stops the load too, and the report says so.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.experiments import EXPERIMENTS, Experiment, alarm_names, load_experiment
from chaos.gameday.alarms import alarm_transitions
from chaos.gameday.fis import find_template, follow, outcome_of, run_template
from chaos.gameday.hypotheses import Verdict, evaluate, windows
from chaos.gameday.plan import plan
from loadtests import junit
from loadtests.ecs import EcsRun, Launched, Prepared, download, launch_and_follow, prepare
from loadtests.invariants import InvariantResult
from loadtests.plan import LoadPlan
from loadtests.runner import record_scaling
from loadtests.scenarios import scenario
from loadtests.stats import Recorded, read_recorded
from loadtests.targets import Target
from localaws.fis.effects import AlarmStopCheck
from localaws.fis.executor import Outcome
from localaws.fis.plan import PlannedAction, span

# Seconds of load after the last action by default: the "after" phase's figures.
RECOVERY_TAIL_S = 15.0
# How long in-flight checkouts may take before the invariant check, unless the experiment says.
DEFAULT_SETTLE_S = 120.0
# After the workers run, locust needs a moment to connect them and start its users.
CONNECT_S = 3.0


@dataclass(frozen=True, kw_only=True)
class GamedayOptions:
    """What `itinera gameday run` was asked for."""

    experiment: str
    report_root: Path
    load: str | None = None
    duration_s: float | None = None
    users: int | None = None
    workers: int = 2
    # None: the deployed template's own AZ (the stage's first).
    target_az: str | None = None
    # None: the experiment's `itinera.local.settle_s`, else 120 s.
    settle_s: float | None = None
    stage: str | None = None
    host: str | None = None


@dataclass(frozen=True, kw_only=True)
class Result:
    """Everything the report shows."""

    experiment: Experiment
    folder: Path
    outcome: Outcome
    actions: list[PlannedAction]
    verdicts: list[Verdict]
    invariants: InvariantResult
    recorded: Recorded | None
    load_start: float
    load_end: float
    fault_window: tuple[float, float] | None
    passed: bool
    fis: dict[str, str]
    scale: float
    target: str = "local"
    stage: str = "dev"
    load_error: str | None = None
    load_stopped: bool = False
    tasks: list[str] = field(default_factory=list)


def experiment_path(name: str) -> Path:
    """Return the file of experiment *name*, or raise naming the known ones."""
    path = EXPERIMENTS / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(EXPERIMENTS.glob("*.yaml")))
        raise SystemExit(f"no experiment {name!r}; one of {known}")
    return path


def timed_fault_end(outcome: Outcome, actions: list[PlannedAction]) -> float | None:
    """Return when the last fault with a local duration ended (or was rolled back early)."""
    # A failover's duration counts too; waits are no fault, stops are instants.
    timed = {a.name for a in actions if a.local_duration_s > 0 and a.action_id != "aws:fis:wait"}
    if not any(e.kind == "start" and e.action in timed for e in outcome.events):
        return None
    ends = [e.at for e in outcome.events
            if (e.kind == "end" and e.action in timed) or e.kind == "rolled back"]
    return max(ends) if ends else None


def steady_or_refuse(target: Target, names: list[str]) -> None:
    """Refuse to start while a stop-condition alarm is in ALARM, as FIS refuses."""
    firing = asyncio.run(AlarmStopCheck(None, names, cloudwatch=target.client("cloudwatch"))())
    if firing:
        raise SystemExit(f"stop condition {firing} is in ALARM: the stack is not in its steady "
                         f"state; wait until it is OK and run again")


@dataclass
class Run:
    """One game day in progress: what was started, for following and stopping it."""

    load: EcsRun
    prepared: Prepared
    launched: Launched
    template_id: str
    name: str
    baseline_s: float
    load_error: str | None = None
    load_stopped: bool = False


async def _under_load(run: Run, target: Target) -> dict[str, Any]:
    """Start the load, the experiment after the baseline, follow both; return the
    experiment as FIS ends it. Cancelled (Ctrl-C, SIGTERM), it stops both."""
    fis = target.client("fis")
    running = asyncio.Event()
    load = asyncio.ensure_future(launch_and_follow(
        run.load, target, run.prepared.outputs, env=run.prepared.env, launched=run.launched,
        on_running=running.set))
    try:
        started = asyncio.ensure_future(running.wait())
        await asyncio.wait({load, started}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if load.done():
            raise SystemExit(f"the load did not start: {load.result()}")
        # The baseline: the load runs unhurt first, so "before" has its own figures.
        await asyncio.wait({load}, timeout=CONNECT_S + run.baseline_s)
        found = await follow(fis, run.template_id, name=run.name, poll_s=target.poll_s)
        if found["state"]["status"] == "stopped":
            # A stop condition fired, or someone stopped it (`itinera gameday abort` stops
            # the load too, whichever FIS or ECS says so first): the load stops with it, and
            # the master writes what it measured so far.
            run.load_stopped = True
            load.cancel()
        (ended,) = await asyncio.gather(load, return_exceptions=True)
        if not run.load_stopped:
            run.load_error = repr(ended) if isinstance(ended, BaseException) else ended
        return found
    finally:
        if not load.done():
            load.cancel()
            await asyncio.gather(load, return_exceptions=True)


def run_gameday(options: GamedayOptions, target: Target) -> Result:
    """Run the game day on *target* and judge it (the report is written apart)."""
    experiment = load_experiment(experiment_path(options.experiment))
    stage = target.stage(options.stage)
    steady_or_refuse(target, [f"itinera-{stage}-{n}" for n in alarm_names(experiment)])
    fis = target.client("fis")
    deployed_id = find_template(fis, f"itinera-{stage}-{experiment.name}")
    scale = target.time_scale
    actions = plan(experiment, scale=scale)
    chosen = scenario(options.load or experiment.load)
    # The load outlasts the actions with a recovery tail, so "after" has figures too.
    load_s = options.duration_s or max(20.0, experiment.duration_s * scale,
                                       span(actions) + RECOVERY_TAIL_S + 5)
    baseline_s = max(3.0, 0.15 * load_s)
    started = datetime.now(UTC)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    folder = options.report_root / f"{stamp}-{experiment.name}"
    folder.mkdir(parents=True, exist_ok=False)
    load = LoadPlan.of(chosen, users=options.users or min(chosen.users, 20),
                       duration_s=load_s + CONNECT_S, shape="steady", rate=None,
                       report_root=folder, thresholds_path=Path("-")).extended(
        EcsRun, workers=options.workers, stack_name=f"itinera-loadgen-{stage}",
        stage=stage, host=target.host(options.host))
    prepared = prepare(load, target, run_id=f"gameday-{stamp}", folder=folder)
    name = f"gameday-{experiment.name}-{stamp}"
    template_id = run_template(fis, deployed_id, name=name, target_az=options.target_az,
                               local=experiment.local)
    run = Run(load=load, prepared=prepared, template_id=template_id, name=name,
              baseline_s=baseline_s, launched=Launched(cluster=prepared.outputs["ClusterName"]))
    print(f"itinera gameday {experiment.name} on {target.name}: {load.users} users of "
          f"{chosen.name} for {load_s:.0f} s from a master and {load.workers} worker task(s); "
          f"the experiment starts after a {baseline_s:.0f} s baseline", flush=True)

    async def main() -> dict[str, Any]:
        task = asyncio.current_task()
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await _under_load(run, target)

    try:
        found = asyncio.run(main())
    finally:
        fis.delete_experiment_template(id=template_id)
    outcome = outcome_of(found)
    download(target.client("s3"), prepared.bucket, prepared.prefix, folder)
    # What the services' autoscaling did through the fault (scaling.json; the report's table).
    record_scaling(target, folder, stage=stage, started=started, finished=datetime.now(UTC))
    settle_s = (options.settle_s if options.settle_s is not None
                else float(experiment.local.get("settle_s", DEFAULT_SETTLE_S)))
    invariants = target.check(grace_s=5.0, settle_s=settle_s)
    recorded = (read_recorded(folder / "locust")
                if (folder / "locust_stats.csv").exists() else None)
    window = outcome.window()
    verdicts: list[Verdict] = []
    load_start = load_end = time.time()
    if recorded is not None:
        history = recorded.history.get("Aggregated", [])
        if history:
            load_start, load_end = float(history[0].t), float(history[-1].t)
    if recorded is not None and window is not None:
        phases = windows(load_start=load_start, load_end=load_end, fault_start=window[0],
                         timed_fault_end=timed_fault_end(outcome, actions),
                         scale=float(experiment.local.get("action_scale", scale)))
        # The stop-condition alarms' changes over the load, from CloudWatch's alarm history.
        stops = {f"itinera-{stage}-{n}" for n in alarm_names(experiment)}
        changes = [t for t in alarm_transitions(target.client("cloudwatch"), load_start - 5,
                                                load_end + 5, prefix=f"itinera-{stage}-")
                   if t["alarm"] in stops]
        verdicts = evaluate(experiment.hypotheses, recorded, phases, invariants, changes)
    expected = "stopped" if experiment.local.get("expect_stopped") else "completed"
    # As a load run's verdict: the invariants must hold where they could be checked (on AWS
    # the check runs where Aurora is reachable, and the report says "not checked").
    passed = (outcome.state == expected and bool(verdicts) and all(v.holds for v in verdicts)
              and invariants.holds is not False and run.load_error is None)
    result = Result(experiment=experiment, folder=folder, outcome=outcome, actions=actions,
                    verdicts=verdicts, invariants=invariants, recorded=recorded,
                    load_start=load_start, load_end=load_end, fault_window=window,
                    passed=passed, scale=scale, target=target.name, stage=stage,
                    fis={"template_id": deployed_id, "run_template_id": template_id,
                         "experiment_id": str(found["id"])},
                    load_error=run.load_error, load_stopped=run.load_stopped,
                    tasks=run.launched.every())
    (folder / "result.json").write_text(json.dumps(summary(result), indent=2))
    write_junit(result, seconds=time.time() - started.timestamp())
    return result


def write_junit(result: Result, *, seconds: float) -> Path:
    """Write junit.xml beside the report: the experiment's end, each hypothesis, the load
    and the invariant check, one test case each."""
    expected = "stopped" if result.experiment.local.get("expect_stopped") else "completed"
    cases = [junit.Case(f"experiment ends {expected}", result.outcome.state == expected,
                        f"{result.outcome.state}: {result.outcome.reason}")]
    cases += [junit.Case(f"{v.hypothesis.phase}: {v.expected}", v.holds,
                         f"observed {v.observed}") for v in result.verdicts]
    if not result.verdicts:
        cases.append(junit.Case("hypotheses judged", False, "no load data or no fault"))
    cases.append(junit.Case("load ran", result.load_error is None,
                            result.load_error or ("stopped with the experiment"
                                                  if result.load_stopped else "")))
    inv = result.invariants
    cases.append(junit.Case("invariants hold", inv.holds is True,
                            inv.reason or f"{len(inv.violations)} violation(s)",
                            skipped=not inv.ran))
    return junit.write(result.folder / "junit.xml", suite=f"gameday.{result.experiment.name}",
                       cases=cases, seconds=seconds)


def summary(result: Result) -> dict[str, Any]:
    """Return the result as JSON for result.json and the tests."""
    return {"experiment": result.experiment.name, "verdict": "pass" if result.passed else "fail",
            "target": result.target, "stage": result.stage,
            "state": result.outcome.state, "reason": result.outcome.reason,
            "fis": result.fis, "time_scale": result.scale, "load_error": result.load_error,
            "load_stopped_with_experiment": result.load_stopped, "tasks": result.tasks,
            "load_window": [result.load_start, result.load_end],
            "fault_window": list(result.fault_window) if result.fault_window else None,
            "events": [e.__dict__ for e in result.outcome.events],
            "hypotheses": [{"expected": v.expected, "phase": v.hypothesis.phase,
                            "window": v.window, "observed": v.observed, "holds": v.holds}
                           for v in result.verdicts],
            "invariants": result.invariants.as_dict()}
