"""The local plan of an experiment: durations, substitutions, targets and startAfter order."""

from __future__ import annotations

import pytest

from chaos.experiments import EXPERIMENTS, load_experiment
from chaos.gameday.plan import plan
from localaws.fis.plan import iso_seconds, span, substitute, waves
from localaws.fis.targets import resolve, running_tasks
from localaws.record import TaskRecord


def test_fis_durations_read_as_seconds() -> None:
    """PT2M, PT30S and PT1H30M are FIS's durations; anything else is refused."""
    assert iso_seconds("PT2M") == 120
    assert iso_seconds("PT30S") == 30
    assert iso_seconds("PT1H30M") == 5400
    with pytest.raises(ValueError):
        iso_seconds("2 minutes")


def test_durations_are_scaled_with_a_floor_and_failover_is_local_seconds() -> None:
    """A 10-minute action lasts 60 s at scale 0.1; the failover lasts its local seconds."""
    power = {a.name: a for a in plan(load_experiment(EXPERIMENTS / "az-power-interruption.yaml"),
                                     scale=0.1)}
    assert power["disrupt-az-connectivity"].local_duration_s == 60
    assert power["stop-tasks-in-az"].local_duration_s == 0
    assert power["wait-before-stop"].local_duration_s == 6
    failover = plan(load_experiment(EXPERIMENTS / "aurora-failover.yaml"), scale=0.1)
    assert failover[0].local_duration_s == 20
    short = plan(load_experiment(EXPERIMENTS / "checkout-worker-errors.yaml"), scale=0.01)
    assert short[0].local_duration_s == 2.0


def test_start_after_orders_actions_in_waves() -> None:
    """The power interruption stops tasks only after its wait; the rest start at once."""
    actions = plan(load_experiment(EXPERIMENTS / "az-power-interruption.yaml"), scale=0.1)
    first, second = waves(actions)
    assert "stop-tasks-in-az" in second and "wait-before-stop" in first
    assert "stop-tasks-in-az" not in first


def test_span_follows_the_longest_start_after_chain() -> None:
    """The power interruption lasts its 60 s actions; a 6 s wait then an instant stop is less."""
    actions = plan(load_experiment(EXPERIMENTS / "az-power-interruption.yaml"), scale=0.1)
    assert span(actions) == 60
    assert span([a for a in actions if a.name in ("wait-before-stop", "stop-tasks-in-az")]) == 6


def test_substitution_fills_known_names_and_keeps_unknown_ones() -> None:
    """`${TargetAz}` becomes the chosen AZ inside nested lists; unknown names stay as written."""
    assert substitute({"f": [{"values": ["${TargetAz}"]}], "x": "${Other}"},
                      {"TargetAz": "az-b"}) == {"f": [{"values": ["az-b"]}], "x": "${Other}"}


def test_targets_resolve_to_tasks_of_a_service_in_an_az() -> None:
    """An ECS task target with an AZ filter selects that service's running tasks there."""
    target = resolve("t", {"resourceType": "aws:ecs:task", "parameters": {"service": "inventory"},
                           "filters": [{"path": "AvailabilityZone", "values": ["az-a"]}]})
    tasks = {name: TaskRecord.model_validate(task) for name, task in {
        "inventory-az-a-1": {"service": "inventory", "az": "az-a", "pid": 11,
                             "state": "RUNNING"},
        "inventory-az-a-2": {"service": "inventory", "az": "az-a", "pid": 12,
                             "state": "PROVISIONING"},
        "inventory-az-b-1": {"service": "inventory", "az": "az-b", "pid": 13,
                             "state": "RUNNING"},
        "gateway-az-a-1": {"service": "gateway", "az": "az-a", "pid": 14, "state": "RUNNING"},
        # the stack record before the ECS stand-in: no service or state, named <service>-<az>
        "inventory-az-a": {"az": "az-a", "pid": 15}}.items()}
    assert running_tasks(tasks, target) == [("inventory-az-a", 15), ("inventory-az-a-1", 11)]


def test_redis_and_lambda_targets() -> None:
    """A Redis AZ power target names its AZ; a Lambda target the functions of its ARNs."""
    redis = resolve("r", {"resourceType": "aws:elasticache:replicationgroup",
                          "parameters": {"availabilityZoneIdentifier": "az-b"}})
    assert redis.azs == ("az-b",)
    worker = resolve("w", {"resourceType": "aws:lambda:function", "resourceArns": [
        "arn:aws:lambda:eu-west-1:123456789012:function:CheckoutWorkerFunction"]})
    assert worker.functions == ("CheckoutWorkerFunction",)
    with pytest.raises(ValueError):
        resolve("x", {"resourceType": "aws:ec2:subnet",
                      "filters": [{"path": "AvailabilityZone", "values": ["eu-west-1a"]}]})
