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
    assert "logConfiguration" not in fis.created
    logged = {**template, "logConfiguration": {"logSchemaVersion": 2, "s3Configuration": {
        "bucketName": "b", "prefix": "logs/x"}}}
    create_template(fis, logged, name="exp-3", role_arn="arn:role", local={})
    assert fis.created["logConfiguration"]["s3Configuration"]["bucketName"] == "b"
    create_template(fis, template, name="exp-2", role_arn="arn:role", local={})
    assert LOCAL_TAG not in fis.created["tags"]


class FakeAwsFis:
    """FIS as the AWS path sees it: one template; the experiment runs, then ends as told.
    With *terminate_on*, the process gets SIGTERM on that GetExperiment call."""

    def __init__(self, statuses: list[str], terminate_on: int | None = None) -> None:
        self.statuses, self.terminate_on = statuses, terminate_on
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get_paginator(self, _: str) -> Any:
        fis = self

        class Pages:
            def paginate(self) -> list[dict[str, Any]]:
                fis.calls.append(("list_experiment_templates", {}))
                return [{"experimentTemplates": [
                    {"id": "EXTother", "tags": {"Name": "itinera-prod-other"}},
                    {"id": "EXTaz", "tags": {"Name": "itinera-prod-all-tasks-lost-az"}}]}]

        return Pages()

    def start_experiment(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("start_experiment", kwargs))
        return {"experiment": {"id": "EXP1", "state": {"status": "initiating"}}}

    def get_experiment(self, **kwargs: Any) -> dict[str, Any]:
        import os
        import signal

        self.calls.append(("get_experiment", kwargs))
        polls = sum(1 for name, _ in self.calls if name == "get_experiment")
        if polls == self.terminate_on:
            os.kill(os.getpid(), signal.SIGTERM)
        status = self.statuses[min(polls, len(self.statuses)) - 1]
        return {"experiment": {"id": "EXP1", "state": {"status": status, "reason": status}}}

    def stop_experiment(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("stop_experiment", kwargs))
        return {"experiment": {"id": "EXP1", "state": {"status": "stopping"}}}


def test_the_aws_path_starts_the_deployed_template_and_follows_it_to_its_end(
        capsys: Any) -> None:
    """`--target aws` finds the template by its Name tag, starts it, prints each new state,
    and exits 0 only when FIS completed it."""
    from chaos.gameday.aws import run_on_aws

    fis = FakeAwsFis(["running", "running", "completed"])
    assert run_on_aws(fis, stage="prod", experiment="all-tasks-lost-az", poll_s=0) == 0
    started = dict(fis.calls)["start_experiment"]
    assert started["experimentTemplateId"] == "EXTaz"
    out = capsys.readouterr().out
    assert "EXP1 running" in out and "EXP1 completed" in out
    assert out.count("EXP1 running") == 1  # each state once
    failing = FakeAwsFis(["running", "stopped"])
    assert run_on_aws(failing, stage="prod", experiment="all-tasks-lost-az", poll_s=0) == 1


def test_the_aws_path_stops_the_experiment_when_it_is_terminated() -> None:
    """SIGTERM (or Ctrl-C) while the experiment runs: StopExperiment is called before the
    runner exits (130), so no experiment is left running."""
    from chaos.gameday.aws import run_on_aws

    fis = FakeAwsFis(["running"] * 1000, terminate_on=2)
    assert run_on_aws(fis, stage="prod", experiment="all-tasks-lost-az", poll_s=0.01) == 130
    assert ("stop_experiment", {"id": "EXP1"}) in fis.calls
