"""One local game day: load, the experiment on the stack, the invariant check, the verdict."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.experiments import EXPERIMENTS, Experiment, alarm_names, load_experiment
from chaos.gameday.fis import create_template, follow, outcome_of
from chaos.gameday.hypotheses import Verdict, evaluate, windows
from chaos.gameday.plan import plan
from loadtests.invariants import InvariantResult, settle_and_check
from loadtests.plan import LoadPlan
from loadtests.runner import RunOptions, locust_command, prepare, run_locust
from loadtests.scenarios import scenario
from loadtests.stats import Recorded, read_recorded
from localaws.config import time_scale
from localaws.fis.effects import AlarmStopCheck
from localaws.fis.executor import Outcome
from localaws.fis.plan import PlannedAction, span, substitute
from localaws.record import read_record

ACCOUNT = "123456789012"
# Seconds of load after the last action by default: the "after" phase's figures.
RECOVERY_TAIL_S = 15.0
# How long in-flight checkouts may take before the invariant check, unless the experiment says.
DEFAULT_SETTLE_S = 120.0


@dataclass(frozen=True, kw_only=True)
class GamedayOptions:
    """What `itinera gameday run` was asked for."""

    experiment: str
    state_dir: Path
    report_root: Path
    load: str | None = None
    duration_s: float | None = None
    users: int | None = None
    target_az: str = "az-a"
    # None: the experiment's `itinera.local.settle_s`, else 120 s.
    settle_s: float | None = None


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


def experiment_path(name: str) -> Path:
    """Return the file of experiment *name*, or raise naming the known ones."""
    path = EXPERIMENTS / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(EXPERIMENTS.glob("*.yaml")))
        raise SystemExit(f"no experiment {name!r}; one of {known}")
    return path


def local_names(*, stage: str, region: str, target_az: str,
                resources: dict[str, str] | None = None) -> dict[str, str]:
    """Return the local values of the template's `${...}` substitutions (buckets by the
    physical names the stack's *resources* record gives them)."""
    physical = resources or {}
    return {"Stage": stage, "TargetAz": target_az, "Cluster": f"itinera-{stage}",
            "AWS::Partition": "aws", "AWS::Region": region, "AWS::AccountId": ACCOUNT,
            "AuroraClusterId": f"itinera-{stage}-aurora",
            "RedisReplicationGroup": f"itinera-{stage}-redis",
            "CheckoutWorkerFunctionArn":
                f"arn:aws:lambda:{region}:{ACCOUNT}:function:CheckoutWorkerFunction",
            "DataSubnetCidrs": "127.0.0.1/32",
            "FisReportsBucket": physical.get("FisReportsBucket", f"itinera-{stage}-fis")}


def timed_fault_end(outcome: Outcome, actions: list[PlannedAction]) -> float | None:
    """Return when the last fault with a local duration ended (or was rolled back early)."""
    # A failover's duration counts too; waits are no fault, stops are instants.
    timed = {a.name for a in actions if a.local_duration_s > 0 and a.action_id != "aws:fis:wait"}
    if not any(e.kind == "start" and e.action in timed for e in outcome.events):
        return None
    ends = [e.at for e in outcome.events
            if (e.kind == "end" and e.action in timed) or e.kind == "rolled back"]
    return max(ends) if ends else None


async def _first_sample(folder: Path, load: asyncio.Future[Any], *, within: float) -> None:
    """Wait until locust has written its first aggregated second (or ended, or *within*)."""
    history = folder / "locust_stats_history.csv"
    deadline = time.monotonic() + within
    while not load.done() and time.monotonic() < deadline:
        if history.exists() and ",Aggregated," in history.read_text():
            return
        await asyncio.wait({load}, timeout=0.2)


async def _experiment(options: GamedayOptions, experiment: Experiment, template: dict[str, Any],
                      baseline_s: float, folder: Path,
                      load: asyncio.Future[Any]) -> tuple[Outcome, dict[str, str]]:
    record = read_record(options.state_dir)
    # The baseline: the load runs unhurt first, so "before" has its own figures; it starts
    # when locust records its first second, not when its process starts.
    await _first_sample(folder, load, within=60.0)
    await asyncio.wait({load}, timeout=baseline_s)
    name = f"{experiment.name}-{int(time.time())}"
    client = record.client("fis")
    template_id = create_template(
        client, template, name=name, local=experiment.local,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/itinera-{record.stage}-fis")
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if main is not None:
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    found = await follow(client, template_id, name=name)
    await load
    return outcome_of(found), {"template_id": template_id, "experiment_id": str(found["id"])}


def run_local(options: GamedayOptions) -> Result:
    """Run the game day against the local stack and judge it (the report is written apart)."""
    experiment = load_experiment(experiment_path(options.experiment))
    record = read_record(options.state_dir)
    firing = asyncio.run(AlarmStopCheck(
        record, [f"itinera-{record.stage}-{n}" for n in alarm_names(experiment)])())
    if firing:
        # As FIS refuses to start: no steady state to compare against.
        raise SystemExit(f"stop condition {firing} is in ALARM: the stack is not in its steady "
                         f"state; wait until it is OK ({options.state_dir}/run/"
                         f"alarm-history.jsonl) and run again")
    template = substitute(experiment.template, local_names(
        stage=record.stage, region=record.aws["AWS_DEFAULT_REGION"],
        target_az=options.target_az, resources=record.resources))
    scale = time_scale()
    actions = plan(experiment, scale=scale)
    chosen = scenario(options.load or experiment.load)
    # The load outlasts the actions with a recovery tail, so "after" has figures too.
    load_s = options.duration_s or max(20.0, experiment.duration_s * scale,
                                       span(actions) + RECOVERY_TAIL_S + 5)
    baseline_s = max(3.0, 0.15 * load_s)
    started = datetime.now(UTC)
    folder = options.report_root / f"{started:%Y%m%dT%H%M%SZ}-{experiment.name}"
    folder.mkdir(parents=True, exist_ok=False)
    run_id = f"gameday-{started:%Y%m%dT%H%M%SZ}"
    load_plan = LoadPlan.of(chosen, users=options.users or min(chosen.users, 20),
                            duration_s=load_s, shape="steady", rate=None, report_root=folder,
                            thresholds_path=Path("-"))
    load_options = load_plan.extended(RunOptions, processes=0, host=record.gateway_url,
                                 state_dir=options.state_dir)
    catalog = asyncio.run(prepare(load_options, run_id=run_id))
    (folder / "catalog.json").write_text(catalog.to_json())
    command = locust_command(load_options, folder=folder, run_id=run_id)

    async def main() -> tuple[Outcome, dict[str, str]]:
        load = asyncio.ensure_future(asyncio.to_thread(
            run_locust, command, folder=folder, timeout_s=load_s + 120))
        try:
            return await _experiment(options, experiment, template, baseline_s, folder, load)
        finally:
            if not load.done():
                await asyncio.wait({load}, timeout=load_s + 130)

    load_start = time.time()
    outcome, fis = asyncio.run(main())
    load_end = time.time()
    settle_s = (options.settle_s if options.settle_s is not None
                else float(experiment.local.get("settle_s", DEFAULT_SETTLE_S)))
    invariants = settle_and_check(options.state_dir, grace_s=5.0, settle_s=settle_s)
    recorded = (read_recorded(folder / "locust")
                if (folder / "locust_stats.csv").exists() else None)
    window = outcome.window()
    verdicts: list[Verdict] = []
    if recorded is not None and window is not None:
        history = recorded.history.get("Aggregated", [])
        if history:
            load_start, load_end = float(history[0].t), float(history[-1].t)
        phases = windows(load_start=load_start, load_end=load_end, fault_start=window[0],
                         timed_fault_end=timed_fault_end(outcome, actions),
                         scale=float(experiment.local.get("action_scale", scale)))
        verdicts = evaluate(experiment.hypotheses, recorded, phases, invariants)
    expected = "stopped" if experiment.local.get("expect_stopped") else "completed"
    passed = (outcome.state == expected and bool(verdicts) and all(v.holds for v in verdicts)
              and invariants.holds is True)
    result = Result(experiment=experiment, folder=folder, outcome=outcome, actions=actions,
                    verdicts=verdicts, invariants=invariants, recorded=recorded,
                    load_start=load_start, load_end=load_end, fault_window=window,
                    passed=passed, fis=fis, scale=scale)
    (folder / "result.json").write_text(json.dumps(summary(result), indent=2))
    return result


def summary(result: Result) -> dict[str, Any]:
    """Return the result as JSON for result.json and the tests."""
    return {"experiment": result.experiment.name, "verdict": "pass" if result.passed else "fail",
            "state": result.outcome.state, "reason": result.outcome.reason,
            "fis": result.fis, "time_scale": result.scale,
            "events": [e.__dict__ for e in result.outcome.events],
            "hypotheses": [{"expected": v.expected, "phase": v.hypothesis.phase,
                            "window": v.window, "observed": v.observed, "holds": v.holds}
                           for v in result.verdicts],
            "invariants": result.invariants.as_dict()}
