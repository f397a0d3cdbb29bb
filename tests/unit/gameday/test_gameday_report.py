"""The game day's markdown report: verdict, hypothesis table, timeline with alarms, check."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.experiments import EXPERIMENTS, Hypothesis, load_experiment
from chaos.gameday.alarms import alarm_transitions
from chaos.gameday.hypotheses import Verdict
from chaos.gameday.plan import plan
from chaos.gameday.report import markdown, scaling_lines
from chaos.gameday.run import Result
from loadtests.invariants import InvariantResult
from localaws.fis.executor import Event, Outcome
from operations.check import Violation

T0 = 1_800_000_000.0


class History:
    """CloudWatch's DescribeAlarmHistory over three transitions of the stage's alarm (one
    before the run) and one of another stage's, newest first as CloudWatch gives them."""

    def __init__(self) -> None:
        self.asked: dict[str, Any] = {}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "describe_alarm_history"
        history = self

        class Pages:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                history.asked = kwargs
                items = [_item("itinera-dev-booking-path-unhealthy", at, old, new)
                         for at, old, new in ((12, "ALARM", "OK"), (6, "OK", "ALARM"))]
                items.append(_item("itinera-prod-booking-path-unhealthy", 7, "OK", "ALARM"))
                return [{"AlarmHistoryItems": items}]

        return Pages()


def _item(alarm: str, at: float, old: str, new: str) -> dict[str, Any]:
    return {"AlarmName": alarm, "Timestamp": datetime.fromtimestamp(T0 + at, UTC),
            "HistoryItemType": "StateUpdate", "HistorySummary": f"from {old} to {new}",
            "HistoryData": json.dumps({"oldState": {"stateValue": old},
                                       "newState": {"stateValue": new, "stateReason": "r"}})}


def test_report_shows_verdict_table_timeline_recovery_and_check(tmp_path: Path) -> None:
    """A breached hypothesis and a violation show, with the alarm transitions of the run
    only, in time order among the actions."""
    history = History()
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
    text = markdown(result, alarm_transitions(history, T0 - 5, T0 + 25, prefix="itinera-dev-"))
    assert history.asked["StartDate"] == datetime.fromtimestamp(T0 - 5, UTC)
    assert history.asked["HistoryItemType"] == "StateUpdate"
    assert "**FAIL**" in text
    assert "| during | error_ratio <= 0.01 | 6-20 | 0.05 | **breached** |" in text
    timeline = text[text.index("## Timeline"):text.index("## Recovery")]
    assert timeline.index("stopped inventory-az-a-1") < timeline.index("OK -> ALARM")
    assert timeline.count("booking-path-unhealthy") == 2
    assert "booking-path-unhealthy OK again" in text
    assert "invariant 3: booking b1 still pending" in text


def test_report_tables_the_services_scaling_through_the_fault(tmp_path: Path) -> None:
    """With the run's scaling.json, the report gives each service's tasks at the start,
    lowest and highest, its healthy targets per AZ at their lowest, and each activity with
    its cause, in seconds from the load's start; without it, says it was not recorded."""
    from loadtests.scaling import ServiceScaling, write

    assert scaling_lines(tmp_path, T0) == ["- not recorded (see the runner's output)"]
    write(tmp_path, {"inventory": ServiceScaling(
        service="inventory", desired=[(T0, 2), (T0 + 10, 3)],
        running=[(T0, 2), (T0 + 6, 1), (T0 + 12, 3)],
        healthy={"az-a": [(T0, 1), (T0 + 6, 0)], "az-b": [(T0, 1)]},
        activities=[{"at": T0 + 10, "description": "Setting desired count to 3.",
                     "cause": "monitor alarm X-AlarmHigh in state ALARM triggered policy "
                              "inventory-cpu", "status": "Successful", "details": {}}])})
    lines = scaling_lines(tmp_path, T0)
    assert "| inventory | 2, 2, 3 | 2, 1, 3 | az-a: 0, az-b: 1 |" in lines
    assert lines[-1] == ("- +10 s inventory: Setting desired count to 3. monitor alarm "
                         "X-AlarmHigh in state ALARM triggered policy inventory-cpu")
