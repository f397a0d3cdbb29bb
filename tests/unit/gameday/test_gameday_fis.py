"""What a game day reads back from FIS: the experiment's states as the report's timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chaos.gameday.fis import LOCAL_TAG, create_template, outcome_of


def _t(second: int) -> datetime:
    return datetime(2026, 12, 7, 18, 0, second, tzinfo=UTC)


def test_a_completed_experiment_becomes_its_timeline() -> None:
    """Each action's start, what it did (FIS's reason after its own sentence), its end and
    the rollback, at the times FIS gives; an action that never started adds nothing."""
    outcome = outcome_of({
        "id": "EXP1", "state": {"status": "completed",
                                "reason": "Experiment completed. Rolled back: az-a available."},
        "endTime": _t(30),
        "actions": {
            "stop": {"actionId": "aws:ecs:stop-task", "startTime": _t(10), "endTime": _t(11),
                     "state": {"status": "completed",
                               "reason": "Action was completed. stopped inventory-az-a-1"}},
            "never": {"actionId": "aws:fis:wait", "state": {"status": "cancelled",
                                                            "reason": "Action was cancelled."}}}})
    assert outcome.state == "completed"
    assert [(e.kind, e.action, e.detail) for e in outcome.events] == [
        ("start", "stop", "aws:ecs:stop-task"), ("applied", "stop", "stopped inventory-az-a-1"),
        ("end", "stop", ""), ("rolled back", "all", "az-a available")]
    assert outcome.window() == (_t(10).timestamp(), _t(30).timestamp())


def test_a_stopped_experiment_says_which_alarm_and_when() -> None:
    """A stop condition's stop is an event at the experiment's end, naming the alarm; the
    running action ends `stopped`, which is not a normal end."""
    reason = "stop condition itinera-x-booking-path-unhealthy in ALARM"
    outcome = outcome_of({
        "id": "EXP2", "state": {"status": "stopped", "reason": reason}, "endTime": _t(20),
        "actions": {"cut": {"actionId": "aws:network:disrupt-connectivity", "startTime": _t(5),
                            "endTime": _t(20),
                            "state": {"status": "stopped", "reason": "Action was stopped."}}}})
    kinds = [(e.kind, e.action) for e in outcome.events]
    assert ("stop condition", reason) in kinds and ("stopped", "cut") in kinds
    assert ("end", "cut") not in kinds
    assert outcome.state == "stopped" and outcome.reason == reason


class RecordingFis:
    """A FIS client that keeps the template it is given."""

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}

    def create_experiment_template(self, **kwargs: Any) -> dict[str, Any]:
        self.created = kwargs
        return {"experimentTemplate": {"id": "EXT1"}}


def test_the_template_carries_its_name_and_local_overrides_as_tags() -> None:
    """The experiment's local overrides travel as one JSON tag (AWS ignores it), its run
    name as Name; with no overrides there is no tag."""
    fis = RecordingFis()
    template = {"description": "d", "actions": {"a": {"actionId": "aws:fis:wait"}},
                "tags": {"Name": "itinera-x-exp", "team": "sre"}}
    assert create_template(fis, template, name="exp-1", role_arn="arn:role",
                           local={"failover_s": 20}) == "EXT1"
    assert fis.created["tags"] == {"Name": "exp-1", "team": "sre",
                                   LOCAL_TAG: '{"failover_s":20}'}
    assert fis.created["stopConditions"] == [{"source": "none"}]
    create_template(fis, template, name="exp-2", role_arn="arn:role", local={})
    assert LOCAL_TAG not in fis.created["tags"]
