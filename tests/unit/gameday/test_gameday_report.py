"""The game day's markdown report: verdict, hypothesis table, timeline with alarms, check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from chaos.experiments import EXPERIMENTS, Hypothesis, load_experiment
from chaos.gameday.hypotheses import Verdict
from chaos.gameday.plan import plan
from chaos.gameday.report import alarm_transitions, markdown
from chaos.gameday.run import Result
from loadtests.invariants import InvariantResult
from localaws.fis.executor import Event, Outcome
from operations.check import Violation

T0 = 1_800_000_000.0


def _history(state: Path) -> None:
    lines = [{"alarm": "itinera-dev-booking-path-unhealthy", "old": old, "new": new,
              "time": datetime.fromtimestamp(T0 + at, UTC).isoformat(), "reason": "r"}
             for at, old, new in ((-100, "OK", "ALARM"), (6, "OK", "ALARM"), (12, "ALARM", "OK"))]
    (state / "run").mkdir(parents=True)
    (state / "run" / "alarm-history.jsonl").write_text(
        "\n".join(json.dumps(line) for line in lines) + "\n")


def test_report_shows_verdict_table_timeline_recovery_and_check(tmp_path: Path) -> None:
    """A breached hypothesis and a violation show, with the alarm transitions of the run
    only, in time order among the actions."""
    _history(tmp_path)
    experiment = load_experiment(EXPERIMENTS / "inventory-tasks-lost-az.yaml")
    h = Hypothesis(metric="error_ratio", phase="during", max=0.01, after_fault_s=10)
    outcome = Outcome(state="completed", events=[
        Event(T0 + 5, "start", "stop-inventory-tasks", "aws:ecs:stop-task"),
        Event(T0 + 5, "applied", "stop-inventory-tasks", "stopped inventory-az-a-1")])
    result = Result(experiment=experiment, folder=tmp_path, outcome=outcome,
                    actions=plan(experiment, scale=0.1),
                    verdicts=[Verdict(hypothesis=h, window=(T0 + 6, T0 + 20), observed=0.05,
                                      holds=False)],
                    invariants=InvariantResult(ran=True, violations=[
                        Violation(3, "booking b1 still pending")]),
                    recorded=None, load_start=T0, load_end=T0 + 20,
                    fault_window=(T0 + 5, T0 + 5), passed=False, fis={}, scale=0.1)
    text = markdown(result, alarm_transitions(tmp_path, T0 - 5, T0 + 25))
    assert "**FAIL**" in text
    assert "| during | error_ratio <= 0.01 | 6-20 | 0.05 | **breached** |" in text
    timeline = text[text.index("## Timeline"):text.index("## Recovery")]
    assert timeline.index("stopped inventory-az-a-1") < timeline.index("OK -> ALARM")
    assert timeline.count("booking-path-unhealthy") == 2
    assert "booking-path-unhealthy OK again" in text
    assert "invariant 3: booking b1 still pending" in text
