"""The five dashboards resolve against a local deployment, and their thresholds are the
template's."""

from __future__ import annotations

from typing import Any

from dashboards.drawing.source import local_dashboards
from dashboards.drawing.widgets import lines
from localaws.resources import Deployed
from localaws.template import Template
from tests.infra.conftest import REGION, of_type

SLUGS = ("async-pipeline", "autoscaling", "booking-slo", "business", "multi-az")


def local(cfn: Template) -> Deployed:
    """A deployment of *cfn* in which queues and functions have physical names."""
    physical = {name: f"https://sqs.{REGION}.amazonaws.com/123456789012/itinera-dev-{name}"
                for name in of_type(cfn.resources, "AWS::SQS::Queue")}
    physical |= {name: f"itinera-dev-{name}"
                 for name in of_type(cfn.resources, "AWS::Lambda::Function")}
    template = Template(resources=cfn.resources, parameters={**cfn.parameters, "Stage": "dev"},
                        outputs=cfn.outputs, conditions=cfn.conditions)
    return Deployed(template=template, region=REGION, stack_name="itinera-dev",
                    physical=physical)


def test_dashboards_resolve_to_physical_names(cfn: Template) -> None:
    """Names are itinera-dev-<slug>; queue and function dimensions carry physical names."""
    dashboards = {d.name: d for d in local_dashboards(local(cfn))}
    assert {f"itinera-dev-{slug}" for slug in SLUGS} <= set(dashboards)
    pipeline = dashboards["itinera-dev-async-pipeline"]
    values = {v for w in pipeline.body["widgets"] if w["type"] == "metric"
              for line in lines(w["properties"]) for _, v in line.dimensions}
    assert {"itinera-dev-CheckoutQueue", "itinera-dev-CheckoutDeadLetterQueue",
            "itinera-dev-CheckoutWorkerFunction", "itinera-dev-CheckoutApiFunction"} <= values
    assert pipeline.unresolved == []


def test_alarm_widgets_name_alarm_arns(cfn: Template) -> None:
    """An alarm widget lists each alarm's ARN, built from its AlarmName (not emulated)."""
    dashboards = {d.name: d for d in local_dashboards(local(cfn))}
    (widget,) = [w for w in dashboards["itinera-dev-async-pipeline"].body["widgets"]
                 if w["type"] == "alarm"]
    assert ("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:itinera-dev-checkout-dlq-not-empty"
            in widget["properties"]["alarms"])


def test_scaling_targets_on_the_autoscaling_dashboard_are_the_policies(
        resources: dict[str, Any], cfn: Template) -> None:
    """The CPU and requests-per-target lines show the target-tracking policies' TargetValue."""
    targets = {}
    for policy in of_type(resources, "AWS::ApplicationAutoScaling::ScalingPolicy").values():
        config = policy["Properties"].get("TargetTrackingScalingPolicyConfiguration", {})
        kind = config.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        if kind:
            targets.setdefault(kind, set()).add(float(config["TargetValue"]))
    dashboards = {d.name: d for d in local_dashboards(local(cfn))}
    shown = {w["properties"]["title"]: {float(a["value"]) for a in
                                        w["properties"].get("annotations", {}).get(
                                            "horizontal", [])}
             for w in dashboards["itinera-dev-autoscaling"].body["widgets"]
             if w["type"] == "metric"}
    assert shown["CPU per service against the scaling target (%)"] == \
        targets["ECSServiceAverageCPUUtilization"]
    assert shown["Requests per target against the scaling target"] == \
        targets["ALBRequestCountPerTarget"]


def test_ecs_names_resolve_as_the_template_names_them(cfn: Template,
                                                      resources: dict[str, Any]) -> None:
    """Cluster and service dimensions are the ClusterName and ServiceName properties, the
    names the local ECS scheduler's metrics carry (the emulator holds no ECS)."""
    dashboards = {d.name: d for d in local_dashboards(local(cfn))}
    autoscaling = dashboards["itinera-dev-autoscaling"]
    assert autoscaling.unresolved == []
    deployed = local(cfn)
    clusters = {str(deployed.resolve(r["Properties"]["ClusterName"]))
                for r in of_type(resources, "AWS::ECS::Cluster").values()}
    services = {str(deployed.resolve(r["Properties"]["ServiceName"]))
                for r in of_type(resources, "AWS::ECS::Service").values()}
    named = [dict(line.dimensions) for w in autoscaling.body["widgets"] if w["type"] == "metric"
             for line in lines(w["properties"]) if line.namespace.startswith(("ECS/", "AWS/ECS"))]
    assert named and all(d["ClusterName"] in clusters and d["ServiceName"] in services
                         for d in named)
