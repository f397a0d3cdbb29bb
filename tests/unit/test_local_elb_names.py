"""Load balancer and target group names resolve locally as CloudWatch's dimensions need."""

from __future__ import annotations

import re

import pytest

from localaws.elb.names import load_balancer_of
from localaws.resources import Deployed
from localaws.template import Template, load_sam, transform


@pytest.fixture(scope="module")
def template() -> Template:
    """The flattened, transformed template."""
    return transform(load_sam(), region="eu-west-1",
                     parameters={"InventoryUrl": "http://127.0.0.1:8081"})


def test_full_names_have_alb_shape_and_are_stable(template: Template) -> None:
    """`LoadBalancerFullName` is app/<name>/<16 hex>, `TargetGroupFullName` targetgroup/...,
    and a second resolution of the same stack gives the same strings."""
    one = Deployed(template=template, region="eu-west-1", stack_name="itinera-dev", physical={})
    two = Deployed(template=template, region="eu-west-1", stack_name="itinera-dev", physical={})
    lb = one.get_att("PublicAlb", "LoadBalancerFullName")
    tg = one.get_att("GatewayTargetGroup", "TargetGroupFullName")
    assert re.fullmatch(r"app/itinera-dev-PublicAlb/[0-9a-f]{16}", lb)
    assert re.fullmatch(r"targetgroup/itinera-dev-GatewayTargetGroup/[0-9a-f]{16}", tg)
    assert two.get_att("PublicAlb", "LoadBalancerFullName") == lb
    other = Deployed(template=template, region="eu-west-1", stack_name="itinera-e2e", physical={})
    assert other.get_att("PublicAlb", "LoadBalancerFullName") != lb


def test_alarm_dimensions_resolve_to_the_published_names(template: Template) -> None:
    """The template's target 5xx alarm names the same LoadBalancer/TargetGroup strings."""
    deployed = Deployed(template=template, region="eu-west-1", stack_name="s", physical={})
    dims = deployed.resolve(template.resources["GatewayTarget5xxAlarm"]["Properties"]
                            ["Dimensions"])
    assert {d["Name"]: d["Value"] for d in dims} == {
        "LoadBalancer": deployed.get_att("PublicAlb", "LoadBalancerFullName"),
        "TargetGroup": deployed.get_att("GatewayTargetGroup", "TargetGroupFullName")}


def test_each_target_group_is_behind_its_listener_balancer(template: Template) -> None:
    """The gateway's group is behind the public ALB, inventory's behind the internal one."""
    assert load_balancer_of(template, "GatewayTargetGroup") == "PublicAlb"
    assert load_balancer_of(template, "InventoryTargetGroup") == "InternalAlb"
