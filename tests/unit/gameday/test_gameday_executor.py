"""The local FIS executor: startAfter order, durations, stop conditions and rollback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from chaos.experiments import Experiment, load_experiments
from chaos.gameday.plan import plan
from localaws.fis.actions import apply, undo
from localaws.fis.executor import RollbackFile, execute
from localaws.fis.plan import PlannedAction, substitute
from localaws.fis.targets import Target, resolve

AZ_A = Target(name="subnets", resource_type="aws:ec2:subnet", azs=("az-a",))
TASKS = Target(name="tasks", resource_type="aws:ecs:task", azs=("az-a",), service="inventory")
WORKER = Target(name="worker", resource_type="aws:lambda:function",
                functions=("CheckoutWorkerFunction",))
TARGETS = {t.name: t for t in (AZ_A, TASKS, WORKER)}


class FakeEffects:
    """Records every lever pulled, in order; can be told to fail stopping tasks."""

    def __init__(self, *, fail_stop: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail_stop = fail_stop
        self.unavailable: set[str] = set()
        self.faults: dict[str | None, str] = {}
        self.objects: set[str] = set()
        self.faulted = asyncio.Event()

    def stop_tasks(self, target: Target) -> list[str]:
        self.calls.append(("stop", target.name))
        if self.fail_stop:
            raise RuntimeError("scheduler unreachable")
        return ["inventory-az-a-1"]

    def set_az(self, az: str, available: bool) -> None:
        self.calls.append(("az", az, available))
        (self.unavailable.discard if available else self.unavailable.add)(az)

    async def proxy_fault(self, fault: dict[str, Any], *, dependency: str | None,
                          az: str | None) -> list[str]:
        self.calls.append(("proxy", fault["mode"], dependency, az))
        self.faults[az] = fault["mode"]
        self.faulted.set()
        return [f"{dependency or 'all'}-{az or 'all'}"]

    async def clear_proxies(self) -> None:
        self.calls.append(("clear",))
        self.faults.clear()

    async def put_lambda(self, function: str, body: bytes) -> None:
        self.calls.append(("put", function))
        self.objects.add(function)

    async def delete_lambda(self, function: str) -> None:
        self.calls.append(("delete", function))
        self.objects.discard(function)

    def clean(self) -> bool:
        """Return whether nothing is left faulted."""
        return not self.unavailable and all(m == "pass" for m in self.faults.values()) \
            and not self.objects


def _action(name: str, action_id: str, *, target: str | None = None, seconds: float = 0,
            after: tuple[str, ...] = (), **parameters: Any) -> PlannedAction:
    return PlannedAction(name=name, action_id=action_id, parameters=parameters,
                         targets={"T": target} if target else {}, start_after=after,
                         aws_duration_s=seconds, local_duration_s=seconds)


async def _never() -> str | None:
    return None


async def test_start_after_waits_for_the_end_of_the_earlier_action(tmp_path: Path) -> None:
    """A stop-task after a wait starts only when the wait ended; both end, state completed."""
    effects = FakeEffects()
    outcome = await execute(
        [_action("stop", "aws:ecs:stop-task", target="tasks", after=("wait",)),
         _action("wait", "aws:fis:wait", seconds=0.2, duration="PT1M")],
        TARGETS, effects, stop_check=_never, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.05)
    assert outcome.state == "completed", outcome.reason
    kinds = [(e.kind, e.action) for e in outcome.events if e.kind in ("start", "end")]
    assert kinds.index(("end", "wait")) < kinds.index(("start", "stop"))
    assert ("stop", "tasks") in effects.calls


async def test_az_disruption_is_applied_for_its_duration_then_undone(tmp_path: Path) -> None:
    """disrupt-connectivity marks the AZ unavailable and cuts its proxies, then restores both."""
    effects = FakeEffects()
    outcome = await execute(
        [_action("cut", "aws:network:disrupt-connectivity", target="subnets", seconds=0.1)],
        TARGETS, effects, stop_check=_never, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.05)
    assert outcome.state == "completed"
    assert effects.calls[:2] == [("az", "az-a", False), ("proxy", "cut", None, "az-a")]
    assert ("az", "az-a", True) in effects.calls and effects.clean()
    assert not (tmp_path / "rb.json").exists()


async def test_a_stop_condition_in_alarm_stops_and_rolls_back(tmp_path: Path) -> None:
    """An alarm going to ALARM mid-action stops the experiment and lifts the Lambda fault."""
    effects = FakeEffects()
    checks = iter([None, None, "itinera-e2e-booking-path-unhealthy"])

    async def alarm() -> str | None:
        return next(checks, "itinera-e2e-booking-path-unhealthy")

    outcome = await execute(
        [_action("errors", "aws:lambda:invocation-error", target="worker", seconds=30,
                 invocationPercentage="50")],
        TARGETS, effects, stop_check=alarm, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.01)
    assert outcome.state == "stopped"
    assert "booking-path-unhealthy" in outcome.reason
    assert ("put", "CheckoutWorkerFunction") in effects.calls and effects.clean()


async def test_an_alarm_already_firing_refuses_to_start(tmp_path: Path) -> None:
    """As FIS does, an experiment whose stop condition is in ALARM does not start at all."""
    effects = FakeEffects()

    async def alarm() -> str | None:
        return "itinera-e2e-booking-path-unhealthy"

    outcome = await execute([_action("stop", "aws:ecs:stop-task", target="tasks")], TARGETS,
                            effects, stop_check=alarm, rollback=RollbackFile(tmp_path / "r"))
    assert outcome.state == "failed" and not effects.calls


async def test_a_failed_action_fails_the_experiment_and_rolls_back(tmp_path: Path) -> None:
    """When one action raises, the others are cancelled and every fault is lifted."""
    effects = FakeEffects(fail_stop=True)
    outcome = await execute(
        [_action("cut", "aws:network:disrupt-connectivity", target="subnets", seconds=30),
         _action("stop", "aws:ecs:stop-task", target="tasks")],
        TARGETS, effects, stop_check=_never, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.01)
    assert outcome.state == "failed" and "scheduler unreachable" in outcome.reason
    assert effects.clean() and ("clear",) in effects.calls


async def test_cancelling_the_run_still_rolls_back(tmp_path: Path) -> None:
    """Ctrl-C or SIGTERM cancels the run; the AZ is restored and proxies cleared all the same."""
    effects = FakeEffects()
    run = asyncio.create_task(execute(
        [_action("cut", "aws:network:disrupt-connectivity", target="subnets", seconds=30)],
        TARGETS, effects, stop_check=_never, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.01))
    await asyncio.wait_for(effects.faulted.wait(), timeout=5)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert effects.clean() and not (tmp_path / "rb.json").exists()


async def test_a_killed_runs_changes_are_undone_by_the_next_run(tmp_path: Path) -> None:
    """The rollback file a killed run left behind is played before the next run starts."""
    rollback = RollbackFile(tmp_path / "rb.json")
    rollback.add(azs=("az-b",), functions=("CheckoutWorkerFunction",), proxies=True)
    effects = FakeEffects()
    outcome = await execute([_action("wait", "aws:fis:wait", seconds=0.01)], TARGETS, effects,
                            stop_check=_never, rollback=rollback, poll_s=0.01)
    assert effects.calls[:3] == [("clear",), ("az", "az-b", True),
                                 ("delete", "CheckoutWorkerFunction")]
    assert outcome.events[0].action == "previous run"


# What the local stack's deployment gives the chaos templates' substitutions.
LOCAL_NAMES = {"Stage": "dev", "TargetAz": "az-a", "Cluster": "itinera-dev",
               "AWS::Partition": "aws", "AWS::Region": "eu-west-1",
               "AWS::AccountId": "123456789012", "AuroraClusterId": "itinera-dev-aurora",
               "RedisReplicationGroup": "itinera-dev-redis",
               "CheckoutWorkerFunctionArn":
                   "arn:aws:lambda:eu-west-1:123456789012:function:CheckoutWorkerFunction",
               "DataSubnetCidrs": "127.0.0.1/32", "FisReportsBucket": "itinera-dev-fis"}


@pytest.mark.parametrize("experiment", load_experiments(), ids=lambda e: e.name)
async def test_every_experiment_maps_to_local_faults(experiment: Experiment) -> None:
    """Every experiment's targets resolve locally and each of its actions has a local fault
    that the rollback lifts."""
    template = substitute(experiment.template, LOCAL_NAMES)
    targets = {n: resolve(n, t) for n, t in template.get("targets", {}).items()}
    effects = FakeEffects()
    for action in plan(experiment, scale=0.1):
        await apply(action, targets, effects, local=experiment.local)
        await undo(action, targets, effects)
    assert effects.clean()
    assert all(t.functions == ("CheckoutWorkerFunction",) for t in targets.values()
               if t.resource_type == "aws:lambda:function")


async def test_a_stop_condition_does_not_cut_a_failover_short(tmp_path: Path) -> None:
    """An alarm during a failover is recorded, but the outage runs out as on AWS, whose FIS
    completes the failover action at once; the experiment completes."""
    effects = FakeEffects()

    async def alarm() -> str | None:
        return "itinera-e2e-booking-path-unhealthy" if effects.faulted.is_set() else None

    outcome = await execute(
        [_action("failover", "aws:rds:failover-db-cluster", target="subnets", seconds=0.2)],
        TARGETS, effects, stop_check=alarm, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.01)
    assert outcome.state == "completed", outcome.reason
    kinds = [e.kind for e in outcome.events]
    assert kinds.count("stop condition") == 1
    assert kinds.index("stop condition") < kinds.index("end")
    assert effects.clean()


async def test_a_stop_condition_still_stops_actions_queued_after_a_failover(
        tmp_path: Path) -> None:
    """A failover does not shield the actions waiting on it: the alarm stops the experiment."""
    effects = FakeEffects()

    async def alarm() -> str | None:
        return "itinera-e2e-booking-path-unhealthy" if effects.faulted.is_set() else None

    outcome = await execute(
        [_action("failover", "aws:rds:failover-db-cluster", target="subnets", seconds=0.2),
         _action("errors", "aws:lambda:invocation-error", target="worker", seconds=1,
                 after=("failover",), invocationPercentage="50")],
        TARGETS, effects, stop_check=alarm, rollback=RollbackFile(tmp_path / "rb.json"),
        poll_s=0.01)
    assert outcome.state == "stopped"
    assert ("put", "CheckoutWorkerFunction") not in effects.calls and effects.clean()
