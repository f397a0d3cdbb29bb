"""chaos/experiments/ holds valid FIS templates, and the checks catch what is not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chaos.catalog import Catalog, load_catalog
from chaos.experiments import Experiment, Hypothesis, load_experiments, problems
from loadtests.scenarios import SCENARIOS
from localaws.fis.plan import duration_seconds

CATALOG = load_catalog()
EXPERIMENTS = load_experiments()
# The issue's list: each of these FIS actions is exercised by at least one experiment.
PROMISED_ACTIONS = {
    "aws:ecs:stop-task", "aws:rds:failover-db-cluster",
    "aws:elasticache:replicationgroup-interrupt-az-power", "aws:lambda:invocation-error",
    "aws:lambda:invocation-add-delay", "aws:ecs:task-network-latency",
    "aws:ecs:task-network-packet-loss", "aws:network:disrupt-connectivity",
}


def _valid() -> Experiment:
    return Experiment(
        name="sample", load="booking", duration_s=60, local={},
        hypotheses=(Hypothesis(metric="error_ratio", phase="during", max=0.01),),
        template={
            "description": "sample",
            "targets": {"tasks": {"resourceType": "aws:ecs:task",
                                  "resourceTags": {"itinera:chaos-target": "dev"},
                                  "selectionMode": "ALL"}},
            "actions": {"wait": {"actionId": "aws:fis:wait", "parameters": {"duration": "PT1M"}},
                        "stop": {"actionId": "aws:ecs:stop-task", "targets": {"Tasks": "tasks"},
                                 "startAfter": ["wait"]}},
            "stopConditions": [{"source": "none"}]})


def _broken(change: Any) -> list[str]:
    experiment = _valid()
    template = copy.deepcopy(experiment.template)
    change(template)
    return problems(Experiment(**{**experiment.__dict__, "template": template}), CATALOG,
                    set(SCENARIOS))


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=[e.name for e in EXPERIMENTS])
def test_every_experiment_validates_against_the_fis_catalog(experiment: Experiment) -> None:
    """Action ids exist, targets match their types, parameters are present and well-formed,
    startAfter names actions without a cycle, and the load scenario exists."""
    assert problems(experiment, CATALOG, set(SCENARIOS)) == []


def test_the_experiments_cover_every_action_the_issue_names() -> None:
    """Together the experiments use each FIS action the game-day issue promises."""
    used = {a["actionId"] for e in EXPERIMENTS for a in e.template["actions"].values()}
    assert used >= PROMISED_ACTIONS


def test_a_valid_sample_passes() -> None:
    """The sample the negative tests break is itself valid, so each failure below is its own."""
    assert problems(_valid(), CATALOG, set(SCENARIOS)) == []


def test_resource_arns_with_tags_or_filters_are_refused() -> None:
    """FIS takes resource ids alone: not with tags, not with filters."""
    def change(t: dict[str, Any]) -> None:
        t["targets"]["tasks"]["resourceArns"] = ["arn:aws:ecs:eu-west-1:1:task/c/1"]
        t["targets"]["tasks"]["filters"] = [{"path": "AvailabilityZone", "values": ["a"]}]
    found = _broken(change)
    assert any("resourceArns and resourceTags exclude" in p for p in found)
    assert any("resourceArns and filters exclude" in p for p in found)


def test_an_unknown_action_id_is_refused() -> None:
    """An action id FIS does not have (moto would accept it) is reported."""
    found = _broken(lambda t: t["actions"]["stop"].update(actionId="aws:ecs:stop-tasks"))
    assert any("unknown action id aws:ecs:stop-tasks" in p for p in found)


def test_a_missing_required_parameter_is_refused() -> None:
    """aws:fis:wait without its duration is reported."""
    found = _broken(lambda t: t["actions"]["wait"].update(parameters={}))
    assert any("needs parameter duration" in p for p in found)


def test_a_malformed_duration_is_refused() -> None:
    """A duration that is not ISO 8601 is reported."""
    found = _broken(lambda t: t["actions"]["wait"].update(parameters={"duration": "60s"}))
    assert any("not an ISO 8601 duration" in p for p in found)


def test_a_target_of_the_wrong_type_is_refused() -> None:
    """An ECS action pointed at a subnet target is reported."""
    def change(t: dict[str, Any]) -> None:
        t["targets"]["tasks"]["resourceType"] = "aws:ec2:subnet"
    assert any("needs aws:ecs:task" in p for p in _broken(change))


def test_start_after_an_unknown_action_is_refused() -> None:
    """startAfter naming no action of the template is reported."""
    found = _broken(lambda t: t["actions"]["stop"].update(startAfter=["nap"]))
    assert any("startAfter names no action nap" in p for p in found)


def test_a_start_after_cycle_is_refused() -> None:
    """Two actions that wait for each other are reported as a cycle."""
    found = _broken(lambda t: t["actions"]["wait"].update(startAfter=["stop"]))
    assert any(p.startswith("startAfter cycle") for p in found)


def test_an_out_of_range_percentage_is_refused() -> None:
    """A Lambda invocation percentage above 100 is reported."""
    def change(t: dict[str, Any]) -> None:
        t["targets"]["fn"] = {"resourceType": "aws:lambda:function", "resourceArns": ["arn"]}
        t["actions"]["fail"] = {"actionId": "aws:lambda:invocation-error",
                                "targets": {"Functions": "fn"},
                                "parameters": {"duration": "PT1M", "preventExecution": "true",
                                               "invocationPercentage": "150"}}
    assert any("outside 1..100" in p for p in _broken(change))


def test_an_elasticache_target_without_its_az_is_refused() -> None:
    """aws:elasticache:replicationgroup targets must say which AZ loses power."""
    def change(t: dict[str, Any]) -> None:
        t["targets"]["redis"] = {"resourceType": "aws:elasticache:replicationgroup",
                                 "resourceArns": ["arn"]}
        t["actions"]["power"] = {"actionId": "aws:elasticache:replicationgroup-interrupt-az-power",
                                 "targets": {"ReplicationGroups": "redis"},
                                 "parameters": {"duration": "PT5M"}}
    assert any("needs parameter availabilityZoneIdentifier" in p for p in _broken(change))


def test_durations_parse_as_iso_8601() -> None:
    """PT1H30M is 5400 s; a bare number is not a duration."""
    assert duration_seconds("PT1H30M") == 5400
    assert duration_seconds("PT45S") == 45
    assert duration_seconds("90") is None
    assert duration_seconds("PT") is None


def test_the_catalog_names_each_actions_target_type() -> None:
    """Every action's target type is a resource type the catalog describes."""
    catalog: Catalog = CATALOG
    assert all(a.target is None or a.target in catalog.resource_types
               for a in catalog.actions.values())
