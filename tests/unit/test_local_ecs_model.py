"""The local ECS stand-in reads services, bounds, task sizes and policies from the template."""

from __future__ import annotations

import pytest

from localaws.ecs.model import EcsService, cpu_metric, ecs_services
from localaws.template import load_sam, transform


@pytest.fixture(scope="module")
def services() -> dict[str, EcsService]:
    """The ECS services of the real template, for stage `dev`."""
    sam = load_sam()
    template = transform(sam, region="eu-west-1", parameters={"Stage": "dev"})
    return ecs_services(template, sam.get("Mappings", {}))


def test_every_fargate_service_is_modelled(services: dict[str, EcsService]) -> None:
    """Gateway, inventory and notifier are the template's ECS services, in cluster itinera-dev."""
    assert set(services) == {"gateway", "inventory", "notifier"}
    assert {s.cluster for s in services.values()} == {"itinera-dev"}


def test_bounds_come_from_the_scalable_target(services: dict[str, EcsService]) -> None:
    """Min 2 and max MaxTasks (10) bound every service; desired starts at the minimum."""
    for service in services.values():
        assert (service.min_capacity, service.max_capacity) == (2, 10)
        assert service.desired == 2


def test_task_size_is_the_task_definitions_cpu(services: dict[str, EcsService]) -> None:
    """The default TaskSize (0.5vCPU-1GB) gives each task 512 CPU units, half a vCPU."""
    assert services["gateway"].cpu_units == 512
    assert services["gateway"].vcpu == 0.5


def test_policies_are_target_tracking_with_their_cooldowns(
        services: dict[str, EcsService]) -> None:
    """Gateway tracks CPU at 60% and requests per target at 1000, 30 s out and 120 s in."""
    policies = {p.metric_type: p for p in services["gateway"].policies}
    assert set(policies) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    assert policies["ECSServiceAverageCPUUtilization"].target == 60
    assert policies["ALBRequestCountPerTarget"].target == 1000
    assert {(p.scale_out_cooldown, p.scale_in_cooldown) for p in policies.values()} == {
        (30.0, 120.0)}


def test_only_balanced_services_have_a_target_group(services: dict[str, EcsService]) -> None:
    """The notifier has no load balancer; the others carry their group's health check."""
    assert services["notifier"].target_group is None
    group = services["gateway"].target_group
    assert group is not None and group.health.path == "/health"
    assert services["gateway"].health_check_grace == 30


def test_cpu_metric_is_per_cluster_and_service(services: dict[str, EcsService]) -> None:
    """CPU is AWS/ECS CPUUtilization per {ClusterName, ServiceName}, averaged."""
    metric = cpu_metric(services["inventory"])
    assert (metric.namespace, metric.name, metric.stat) == ("AWS/ECS", "CPUUtilization",
                                                            "Average")
    assert metric.dimensions == (("ClusterName", "itinera-dev"), ("ServiceName", "inventory"))
