"""monitoring.yaml's alarms and dashboard are exactly what dashboards/alarms.yaml defines."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pytest

from tests.infra.conftest import ROOT, raw

REQUIRED = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "CheckoutDeadLetterQueue"),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "NotifierDeadLetterQueue"),
    ("AWS/Lambda", "Errors", "CheckoutWorkerFunction"),
    ("AWS/ApiGateway", "5XXError", "itinera-${Stage}-checkout"),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "PublicAlb"),
    ("AWS/ApplicationELB", "TargetResponseTime", "PublicAlb"),
    ("AWS/ECS", "CPUUtilization", "GatewayService"),
    ("AWS/ECS", "CPUUtilization", "InventoryService"),
    ("AWS/ECS", "CPUUtilization", "NotifierService"),
    ("AWS/RDS", "CPUUtilization", "AuroraCluster"),
    ("AWS/RDS", "AuroraReplicaLagMaximum", "AuroraCluster"),
    ("AWS/ElastiCache", "EngineCPUUtilization", "RedisReplicationGroup"),
}


@pytest.fixture(scope="module")
def render() -> ModuleType:
    """dashboards/render.py, loaded from its file (dashboards/ is not an installed package)."""
    spec = importlib.util.spec_from_file_location("dashboards_render",
                                                  ROOT / "dashboards" / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_committed_template_matches_the_definitions(render: ModuleType) -> None:
    """Re-rendering dashboards/alarms.yaml changes nothing in infra/sam/monitoring.yaml."""
    current = render.TEMPLATE.read_text()
    assert render.rendered(current, render.load()) == current, \
        "run `make monitoring` and commit infra/sam/monitoring.yaml"


def test_the_root_passes_every_name_the_alarms_need(render: ModuleType) -> None:
    """Each resource an alarm names in another stack is a parameter that template.yaml passes."""
    (monitoring,) = [r for r in raw("template.yaml")["Resources"].values()
                     if r["Properties"]["TemplateURL"] == "monitoring.yaml"]
    needed = set(render.parameters(render.load()))
    assert needed and needed <= set(monitoring["Properties"]["Parameters"])


def test_deployed_alarms_are_the_defined_ones(render: ModuleType,
                                              resources: dict[str, Any]) -> None:
    """Each defined alarm is deployed with its metric and threshold, and nothing else is."""
    deployed = {k: v["Properties"] for k, v in resources.items()
                if v["Type"] == "AWS::CloudWatch::Alarm"}
    defined = {a.logical_id: a for a in render.load().alarms}
    assert set(deployed) == set(defined)
    for name, alarm in defined.items():
        props = deployed[name]
        assert (props["Namespace"], props["MetricName"]) == (alarm.namespace, alarm.metric)
        assert float(props["Threshold"]) == alarm.threshold
        assert props["AlarmActions"] == [{"Ref": "AlarmsTopic"}]


def test_the_required_failure_signals_each_have_an_alarm(render: ModuleType) -> None:
    """DLQs, worker errors, API 5xx, ALB 5xx and latency, ECS, Aurora and Redis CPU are covered."""
    covered = {(a.namespace, a.metric, value.strip("${}").split(".")[0].split("}")[0])
               for a in render.load().alarms for value in a.dimensions.values()}
    covered |= {(a.namespace, a.metric, value) for a in render.load().alarms
                for value in a.dimensions.values()}
    assert REQUIRED - covered == set()


def test_the_dashboard_shows_every_alarm(render: ModuleType, resources: dict[str, Any]) -> None:
    """The deployed dashboard has an alarm widget naming each alarm's ARN."""
    sub = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    body = json.loads(sub[0] if isinstance(sub, list) else sub)
    shown = {arn for w in body["widgets"] if w["type"] == "alarm"
             for arn in w["properties"]["alarms"]}
    assert shown == {f"${{{a.logical_id}.Arn}}" for a in render.load().alarms}
