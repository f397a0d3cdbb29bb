"""The local alarm evaluator: every period, evaluate each alarm in moto and act on changes.

moto stores alarms and leaves them in OK forever. This process puts each in
INSUFFICIENT_DATA at start, as CloudWatch does with a new alarm, then every interval reads
each metric alarm's data through a MetricReader, evaluates it (evaluate.py), evaluates the
composites over the new states (composite.py), and on each change sets the state in moto,
publishes CloudWatch's notification to the state's SNS actions and appends the change to
<state_dir>/run/alarm-history.jsonl. Periods run `local_seconds` faster (config.py).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localaws.alarms.composite import RuleError, evaluate_rule
from localaws.alarms.evaluate import MetricReader, alarm_series, evaluate_metric_alarm
from localaws.alarms.install import composites_path
from localaws.alarms.notify import append_history, notification, publish
from localaws.config import local_seconds

INITIAL_REASON = "Unchecked: Initial alarm creation"


def history_path(state_dir: Path) -> Path:
    """Return the file each alarm transition is appended to."""
    return state_dir / "run" / "alarm-history.jsonl"


def status(state_dir: Path) -> dict[str, Any]:
    """Return each alarm's latest state, since when and why, from the run's history."""
    path = history_path(state_dir)
    lines = path.read_text().splitlines() if path.exists() else []
    latest: dict[str, dict[str, Any]] = {}
    for line in lines:
        move = json.loads(line)
        latest[move["alarm"]] = {"state": move["new"], "since": move["time"],
                                 "reason": move["reason"]}
    return {"time_scale": local_seconds(1), "alarms": dict(sorted(latest.items())),
            "in_alarm": sorted(n for n, a in latest.items() if a["state"] == "ALARM")}


def local_period(aws_seconds: float, scale: Callable[[float], float] = local_seconds) -> int:
    """Return a period's local length in whole seconds (at least one)."""
    return max(1, round(scale(aws_seconds)))


def localized(alarm: dict[str, Any], scale: Callable[[float], float] = local_seconds
              ) -> dict[str, Any]:
    """Return *alarm* with its periods (its own and its queries') as long as they last locally."""
    out = copy.deepcopy(alarm)
    if out.get("Period"):
        out["Period"] = local_period(out["Period"], scale)
    for query in out.get("Metrics") or []:
        if query.get("Period"):
            query["Period"] = local_period(query["Period"], scale)
        if "MetricStat" in query:
            query["MetricStat"]["Period"] = local_period(query["MetricStat"]["Period"], scale)
    return out


@dataclass(frozen=True)
class Transition:
    """One alarm's change of state."""

    alarm: str
    old: str
    new: str
    reason: str
    time: datetime


class AlarmRunner:
    """Evaluates moto's alarms with a MetricReader and acts on their changes."""

    def __init__(self, *, cloudwatch: Any, sns: Any, reader: MetricReader, state_dir: Path,
                 region: str, scale: Callable[[float], float] = local_seconds,
                 say: Callable[[str], None] = print) -> None:
        self.cloudwatch = cloudwatch
        self.sns = sns
        self.reader = reader
        self.region = region
        self.scale = scale
        self.say = say
        self.history = history_path(state_dir)
        rules = composites_path(state_dir)
        self.composites: dict[str, dict[str, Any]] = {
            c["AlarmName"]: c for c in (json.loads(rules.read_text()) if rules.exists() else [])}

    def alarms(self) -> list[dict[str, Any]]:
        """Return every alarm moto holds (composites appear as their placeholders)."""
        pages = self.cloudwatch.get_paginator("describe_alarms").paginate()
        return [a for page in pages for a in page.get("MetricAlarms", [])]

    def start(self, now: datetime | None = None) -> int:
        """Put every alarm in INSUFFICIENT_DATA, as a new CloudWatch alarm is; return how many."""
        now = now or datetime.now(UTC)
        alarms = self.alarms()
        # A run's history starts when its alarms are created.
        self.history.unlink(missing_ok=True)
        for alarm in alarms:
            self.cloudwatch.set_alarm_state(AlarmName=alarm["AlarmName"],
                                            StateValue="INSUFFICIENT_DATA",
                                            StateReason=INITIAL_REASON)
            append_history(self.history, alarm=alarm["AlarmName"], old=None,
                           new="INSUFFICIENT_DATA", when=now, reason=INITIAL_REASON)
        return len(alarms)

    def tick(self, now: datetime | None = None) -> list[Transition]:
        """Evaluate every alarm once at *now*; return the transitions made."""
        now = now or datetime.now(UTC)
        alarms = {a["AlarmName"]: a for a in self.alarms()}
        states = {name: a["StateValue"] for name, a in alarms.items()}
        changes: list[Transition] = []
        for name, alarm in alarms.items():
            if name in self.composites:
                continue
            try:
                local = localized(alarm, self.scale)
                result = evaluate_metric_alarm(local, alarm_series(local, self.reader, now),
                                               now=now, current=states[name])
            except Exception as exc:  # one bad alarm must not stop the others' evaluation
                self.say(f"alarm {name}: not evaluated: {exc}")
                continue
            if result.state != states[name]:
                changes.append(self._change(alarm, states[name], result.state, result.reason,
                                            result.reason_json(), now))
                states[name] = result.state
        changes += self._composites(alarms, states, now)
        return changes

    def _composites(self, alarms: dict[str, dict[str, Any]], states: dict[str, str],
                    now: datetime) -> list[Transition]:
        # A composite may name another: repeat until nothing changes (no cycles: CloudWatch
        # refuses them, and so many passes end even if one slipped in).
        changes: list[Transition] = []
        for _ in range(len(self.composites) + 1):
            changed = False
            for name, composite in self.composites.items():
                if name not in alarms:
                    continue
                try:
                    result = evaluate_rule(composite["AlarmRule"], states)
                except RuleError as exc:
                    self.say(f"composite alarm {name}: not evaluated: {exc}")
                    continue
                if result.state != states[name]:
                    data = json.dumps({"triggeringAlarms": result.triggering})
                    changes.append(self._change(
                        {**alarms[name], **composite}, states[name], result.state,
                        result.reason, data, now, rule=composite["AlarmRule"],
                        triggering=result.triggering))
                    states[name] = result.state
                    changed = True
            if not changed:
                break
        return changes

    def _change(self, alarm: dict[str, Any], old: str, new: str, reason: str, data: str,
                now: datetime, *, rule: str | None = None,
                triggering: list[str] | None = None) -> Transition:
        name = alarm["AlarmName"]
        self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=new, StateReason=reason,
                                        StateReasonData=data)
        subject, body = notification(alarm, old=old, new=new, reason=reason, when=now,
                                     region=self.region, rule=rule, triggering=triggering)
        publish(self.sns, alarm, new, subject, body)
        append_history(self.history, alarm=name, old=old, new=new, when=now, reason=reason)
        self.say(f"alarm {name}: {old} -> {new}: {reason}")
        return Transition(name, old, new, reason, now)

    def run(self, stop: threading.Event, interval: float) -> None:
        """Tick every *interval* seconds until *stop* is set."""
        while not stop.wait(interval):
            try:
                self.tick()
            except Exception as exc:  # moto restarting, say; the next tick tries again
                self.say(f"alarm evaluation failed: {exc}")
