"""The local FIS executor: actions in startAfter order for their durations, stop conditions,
and a rollback that always runs (also when cancelled), recorded in a file for a later run."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.fis import actions as local_actions
from localaws.fis.actions import Effects
from localaws.fis.plan import PlannedAction
from localaws.fis.targets import Target

# Returns the name of a stop-condition alarm in ALARM, or None.
StopCheck = Callable[[], Awaitable[str | None]]
# Actions FIS cannot stop once started: it completes aws:rds:failover-db-cluster as soon as
# Aurora accepts the failover, so a stop condition never shortens one. Locally the outage is
# held for `failover_s`, and an alarm meanwhile is recorded instead of lifting it early.
UNSTOPPABLE = frozenset({"aws:rds:failover-db-cluster"})


@dataclass(frozen=True)
class Event:
    """One line of the timeline: when, what happened, to which action, and how."""

    at: float
    kind: str
    action: str
    detail: str = ""


@dataclass
class Outcome:
    """How the experiment ended (FIS's states: completed, stopped, failed) and its timeline."""

    state: str = "running"
    reason: str = ""
    events: list[Event] = field(default_factory=list)

    def log(self, kind: str, action: str, detail: str = "") -> None:
        """Append one event, stamped now."""
        self.events.append(Event(time.time(), kind, action, detail))

    def window(self) -> tuple[float, float] | None:
        """Return when the first fault started and the last one ended."""
        starts = [e.at for e in self.events if e.kind == "start"]
        ends = [e.at for e in self.events if e.kind in ("end", "rolled back")]
        if not starts:
            return None
        return min(starts), max([*ends, *starts])


class RollbackFile:
    """What a run changed and must undo: written before each change, removed after rollback."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, list[str]]:
        """Return the AZs and functions a (maybe killed) run left changed."""
        try:
            return dict(json.loads(self.path.read_text()))
        except (OSError, ValueError):
            return {}

    def add(self, *, azs: tuple[str, ...] = (), functions: tuple[str, ...] = (),
            proxies: bool = False) -> None:
        """Record more changes, before they are made."""
        doc = self.read()
        doc["azs"] = sorted({*doc.get("azs", []), *azs})
        doc["functions"] = sorted({*doc.get("functions", []), *functions})
        doc["proxies"] = ["all"] if proxies or doc.get("proxies") else []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(doc))

    async def undo(self, effects: Effects) -> list[str]:
        """Undo everything recorded, then forget it; return what was undone."""
        doc, done = self.read(), []
        if doc.get("proxies"):
            await effects.clear_proxies()
            done.append("proxy faults lifted")
        for az in doc.get("azs", []):
            effects.set_az(az, True)
            done.append(f"{az} available")
        for function in doc.get("functions", []):
            await effects.delete_lambda(function)
            done.append(f"{function} settings deleted")
        self.path.unlink(missing_ok=True)
        return done


def _record_change(rollback: RollbackFile, action: PlannedAction, target: Target | None
                   ) -> None:
    if target is None:
        return
    kind = action.action_id
    rollback.add(azs=target.azs if kind == "aws:network:disrupt-connectivity" else (),
                 functions=target.functions,
                 proxies=kind not in ("aws:ecs:stop-task", "aws:fis:wait")
                 and not kind.startswith("aws:lambda:"))


async def _run_action(action: PlannedAction, targets: dict[str, Target], effects: Effects,
                      done: dict[str, asyncio.Event], outcome: Outcome,
                      rollback: RollbackFile, local: dict[str, Any]) -> None:
    for before in action.start_after:
        await done[before].wait()
    target = next((targets[t] for t in action.targets.values()), None)
    _record_change(rollback, action, target)
    outcome.log("start", action.name, action.action_id)
    try:
        applied = await local_actions.apply(action, targets, effects, local=local)
    except Exception as exc:
        outcome.log("failed", action.name, repr(exc))
        raise
    outcome.log("applied", action.name, applied.detail)
    if action.local_duration_s > 0:
        await asyncio.sleep(action.local_duration_s)
        undone = await local_actions.undo(action, targets, effects)
        outcome.log("end", action.name, undone)
    else:
        outcome.log("end", action.name)
    done[action.name].set()


async def execute(actions: list[PlannedAction], targets: dict[str, Target], effects: Effects,
                  *, stop_check: StopCheck, rollback: RollbackFile,
                  local: dict[str, Any] | None = None, poll_s: float = 1.0,
                  outcome: Outcome | None = None) -> Outcome:
    """Carry out *actions*; poll *stop_check* every *poll_s*; always roll back at the end.

    *outcome*, when given, is filled as the run goes (the FIS API reads it while it runs).
    """
    outcome = outcome if outcome is not None else Outcome()
    leftover = await rollback.undo(effects)
    if leftover:
        outcome.log("rollback", "previous run", "; ".join(leftover))
    alarm = await stop_check()
    if alarm:
        outcome.state, outcome.reason = "failed", f"stop condition {alarm} in ALARM at start"
        return outcome
    done = {a.name: asyncio.Event() for a in actions}
    tasks = {asyncio.create_task(_run_action(a, targets, effects, done, outcome, rollback,
                                             local or {})): a.name for a in actions}
    by_name = {a.name: a for a in actions}
    noted: set[str] = set()
    try:
        pending = set(tasks)
        while pending:
            finished, pending = await asyncio.wait(pending, timeout=poll_s,
                                                   return_when=asyncio.FIRST_EXCEPTION)
            failed = [t for t in finished if t.exception() is not None]
            if failed:
                outcome.state = "failed"
                outcome.reason = f"action {tasks[failed[0]]} failed: {failed[0].exception()!r}"
                break
            alarm = await stop_check()
            if alarm and all(by_name[tasks[t]].action_id in UNSTOPPABLE for t in pending):
                if alarm not in noted:
                    noted.add(alarm)
                    outcome.log("stop condition", alarm,
                                "ALARM during a failover, which FIS cannot stop: it runs out")
                continue
            if alarm:
                outcome.state, outcome.reason = "stopped", f"stop condition {alarm} in ALARM"
                outcome.log("stop condition", alarm, "ALARM")
                break
        else:
            outcome.state = "completed"
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if outcome.state == "running":
            outcome.state, outcome.reason = "failed", "interrupted"
        undone = await rollback.undo(effects)
        outcome.log("rolled back", "all", "; ".join(undone) or "nothing left to undo")
    return outcome
