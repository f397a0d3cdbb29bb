"""A game day's calls to FIS: the run's copy of the deployed template, following and stopping
the experiment, and its states read back as the report's timeline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.validate import validate_parameters

from chaos.gameday.fis import LOCAL_TAG, find_template, follow, outcome_of, run_template
from tests.waiting import eventually


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


DEPLOYED = {
    "id": "EXTaz", "arn": "arn:aws:fis:eu-west-1:123456789012:experiment-template/EXTaz",
    "creationTime": 1.0, "lastUpdateTime": 1.0, "description": "d",
    "roleArn": "arn:aws:iam::123456789012:role/fis",
    "targets": {
        "tasks": {"resourceType": "aws:ecs:task", "selectionMode": "ALL",
                  "parameters": {"cluster": "c", "service": "inventory"},
                  "filters": [{"path": "AvailabilityZone", "values": ["eu-west-1a"]},
                              {"path": "LastStatus", "values": ["RUNNING"]}]},
        "redis": {"resourceType": "aws:elasticache:replicationgroup", "selectionMode": "ALL",
                  "resourceArns": ["arn:aws:elasticache:eu-west-1:123456789012:"
                                   "replicationgroup:r"],
                  "parameters": {"availabilityZoneIdentifier": "eu-west-1a"}}},
    "actions": {"stop": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "tasks"},
                         "parameters": {}, "startAfter": []},
                "power": {"actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                          "targets": {"ReplicationGroups": "redis"},
                          "parameters": {"duration": "PT1M"}, "startAfter": ["stop"]}},
    "stopConditions": [{"source": "aws:cloudwatch:alarm",
                        "value": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"}],
    "logConfiguration": {"logSchemaVersion": 2,
                         "s3Configuration": {"bucketName": "fis-reports", "prefix": "logs/x"}},
    "experimentOptions": {"accountTargeting": "single-account",
                          "emptyTargetResolutionMode": "fail", "actionsMode": "run-all"},
    "tags": {"Name": "itinera-prod-az", "team": "sre"}}


class TemplateFis:
    """FIS with one deployed template, recording the copy a run creates."""

    created: dict[str, Any]

    def get_experiment_template(self, *, id: str) -> dict[str, Any]:
        assert id == "EXTaz"
        return {"experimentTemplate": DEPLOYED}

    def create_experiment_template(self, **kwargs: Any) -> dict[str, Any]:
        self.created = kwargs
        return {"experimentTemplate": {"id": "EXTrun"}}


def test_a_run_copies_the_deployed_template_aimed_at_its_az_with_its_overrides() -> None:
    """The run's template is the deployed one (actions, stop conditions, role, logs), its
    AZ filters and AZ parameters aimed at the run's AZ, named for the run, with the
    experiment's local overrides as one JSON tag (AWS ignores it); the request is one
    botocore's model of CreateExperimentTemplate accepts."""
    fis = TemplateFis()
    assert run_template(fis, "EXTaz", name="gameday-az-1", target_az="eu-west-1b",
                        local={"failover_s": 20}) == "EXTrun"
    made = fis.created
    assert made["tags"] == {"Name": "gameday-az-1", "team": "sre", "itinera:copy-of": "EXTaz",
                            LOCAL_TAG: '{"failover_s":20}'}
    assert made["targets"]["tasks"]["filters"] == [
        {"path": "AvailabilityZone", "values": ["eu-west-1b"]},
        {"path": "LastStatus", "values": ["RUNNING"]}]
    assert made["targets"]["redis"]["parameters"] == {"availabilityZoneIdentifier": "eu-west-1b"}
    assert made["actions"]["power"]["startAfter"] == ["stop"]
    assert made["stopConditions"] == DEPLOYED["stopConditions"]
    assert made["experimentOptions"] == {"accountTargeting": "single-account",
                                         "emptyTargetResolutionMode": "fail"}
    model = botocore.session.get_session().get_service_model("fis")
    validate_parameters(made, model.operation_model("CreateExperimentTemplate").input_shape)
    # Without an AZ the deployed targets stay as they are; without overrides, no tag.
    run_template(fis, "EXTaz", name="gameday-az-2", target_az=None, local={})
    assert fis.created["targets"]["tasks"]["filters"][0]["values"] == ["eu-west-1a"]
    assert LOCAL_TAG not in fis.created["tags"]


class FakeAwsFis:
    """FIS with two templates; the experiment runs, then ends as told."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
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
        self.calls.append(("get_experiment", kwargs))
        polls = sum(1 for name, _ in self.calls if name == "get_experiment")
        status = self.statuses[min(polls, len(self.statuses)) - 1]
        return {"experiment": {"id": "EXP1", "state": {"status": status, "reason": status}}}

    def stop_experiment(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("stop_experiment", kwargs))
        return {"experiment": {"id": "EXP1", "state": {"status": "stopping"}}}


async def test_the_runner_finds_the_template_by_name_and_follows_it_to_its_end() -> None:
    """The deployed template is found by its Name tag (a missing one is a clear refusal);
    the experiment is followed to its end, each new state told once."""
    fis = FakeAwsFis(["running", "running", "completed"])
    assert find_template(fis, "itinera-prod-all-tasks-lost-az") == "EXTaz"
    with pytest.raises(SystemExit, match="Name=itinera-prod-missing"):
        find_template(fis, "itinera-prod-missing")
    told: list[str] = []
    found = await follow(fis, "EXTaz", name="run-1", poll_s=0,
                         on_state=lambda _, state: told.append(state["status"]))
    assert found["state"]["status"] == "completed"
    assert told == ["running", "completed"]
    assert dict(fis.calls)["start_experiment"]["experimentTemplateId"] == "EXTaz"


async def test_a_cancelled_runner_stops_the_experiment() -> None:
    """Cancelled (Ctrl-C, SIGTERM) while the experiment runs, the runner calls
    StopExperiment before it gives up, so no experiment is left running."""
    fis = FakeAwsFis(["running"] * 10_000)
    following = asyncio.create_task(follow(fis, "EXTaz", name="run-2", poll_s=0.01))

    def polled_twice() -> bool:
        return sum(name == "get_experiment" for name, _ in fis.calls) >= 2

    await eventually(polled_twice, within=10, what="two polls")
    following.cancel()
    with pytest.raises(asyncio.CancelledError):
        await following
    assert ("stop_experiment", {"id": "EXP1"}) in fis.calls
