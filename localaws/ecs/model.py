"""What the SAM template declares about ECS services: sizes, bounds and scaling policies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from localaws.elb.model import TargetGroup, target_groups
from localaws.template import Template, TemplateError

ECS_SERVICE = "AWS::ECS::Service"
ECS_CLUSTER = "AWS::ECS::Cluster"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
SCALING_POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"
# CloudFormation creates a service with one task when DesiredCount is left out; the scalable
# target's minimum then raises it, as Application Auto Scaling does on registration.
DEFAULT_DESIRED_COUNT = 1
CPU_UNITS_PER_VCPU = 1024
# Application Auto Scaling's defaults when a policy leaves its cooldowns out.
DEFAULT_SCALE_OUT_COOLDOWN = 300.0
DEFAULT_SCALE_IN_COOLDOWN = 300.0


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """One CloudWatch metric a policy tracks, as a GetMetricData MetricStat."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str


@dataclass(frozen=True, kw_only=True)
class ScalingPolicy:
    """One target-tracking policy: a metric held at a target value."""

    name: str
    # ECSServiceAverageCPUUtilization, ALBRequestCountPerTarget or "Customized".
    metric_type: str
    target: float
    scale_out_cooldown: float
    scale_in_cooldown: float
    # ALB full name / target group full name, for ALBRequestCountPerTarget.
    resource_label: str = ""
    # DisableScaleIn: the policy only ever adds tasks.
    disable_scale_in: bool = False
    # A customized metric's queries (GetMetricData's MetricDataQueries), with what the model
    # could not resolve (another resource's attributes) left for the deployed stack's resolver.
    queries: tuple[dict[str, Any], ...] = ()

    @property
    def per_period_count(self) -> bool:
        """Return whether the metric is a count summed over its period (requests per target):
        a local period is shorter than AWS's minute, so its count is scaled back to a minute's
        before it is compared with the target."""
        return self.metric_type == "ALBRequestCountPerTarget"


@dataclass(frozen=True, kw_only=True)
class EcsService:
    """One ECS service: its cluster, task size, counts and target group (None behind no ALB)."""

    logical_id: str
    name: str
    cluster: str
    cpu_units: int
    desired: int
    min_capacity: int
    max_capacity: int
    policies: tuple[ScalingPolicy, ...]
    target_group: TargetGroup | None
    health_check_grace: float = 0.0

    @property
    def vcpu(self) -> float:
        """Return the task's vCPU share (task definition Cpu / 1024)."""
        return self.cpu_units / CPU_UNITS_PER_VCPU


def ecs_services(template: Template, mappings: dict[str, Any]) -> dict[str, EcsService]:
    """Return every ECS service of *template* by its name, with the parameters in force."""
    resolve = _Resolver(template, mappings)
    groups = target_groups(template)
    targets = {logical: props["Properties"]
               for logical, props in template.of_type(SCALABLE_TARGET).items()}
    policies = template.of_type(SCALING_POLICY)
    out: dict[str, EcsService] = {}
    for logical, resource in template.of_type(ECS_SERVICE).items():
        props = resource["Properties"]
        name = str(props["ServiceName"])
        cluster_id = _ref(props["Cluster"])
        cluster = str(resolve(template.resources[cluster_id]["Properties"]["ClusterName"]))
        task_def = template.resources[_ref(props["TaskDefinition"])]["Properties"]
        target_id, target = _scalable_target_of(logical, targets)
        own = tuple(_policy(resolve, p["Properties"]) for p in policies.values()
                    if _ref(p["Properties"]["ScalingTargetId"]) == target_id
                    and ("Condition" not in p or resolve.condition(p["Condition"])))
        low, high = int(resolve(target["MinCapacity"])), int(resolve(target["MaxCapacity"]))
        desired = int(resolve(props.get("DesiredCount", DEFAULT_DESIRED_COUNT)))
        out[name] = EcsService(
            logical_id=logical, name=name, cluster=cluster,
            cpu_units=int(resolve(task_def["Cpu"])), desired=min(high, max(low, desired)),
            min_capacity=low, max_capacity=high, policies=own, target_group=groups.get(name),
            health_check_grace=float(resolve(props.get("HealthCheckGracePeriodSeconds", 0))))
    return out


def _scalable_target_of(service: str, targets: dict[str, dict[str, Any]]
                        ) -> tuple[str, dict[str, Any]]:
    """Return the scalable target whose ResourceId names *service* (`${Service.Name}`)."""
    for logical, props in targets.items():
        if f"${{{service}.Name}}" in str(props.get("ResourceId")):
            return logical, props
    raise TemplateError(f"ECS service {service} has no scalable target")


def _policy(resolve: _Resolver, props: dict[str, Any]) -> ScalingPolicy:
    config = props["TargetTrackingScalingPolicyConfiguration"]
    predefined = config.get("PredefinedMetricSpecification", {})
    label = predefined.get("ResourceLabel", "")
    customized = config.get("CustomizedMetricSpecification", {})
    if customized and "Metrics" not in customized:
        raise TemplateError(f"{props['PolicyName']}: a customized metric without Metrics "
                            f"(the older MetricName form) is not emulated")
    if customized and sum(bool(q.get("ReturnData", True)) for q in customized["Metrics"]) != 1:
        # Application Auto Scaling refuses the policy too: it tracks one series.
        raise TemplateError(f"{props['PolicyName']}: a customized metric returns exactly one "
                            f"series (ReturnData)")
    return ScalingPolicy(
        disable_scale_in=str(resolve(config.get("DisableScaleIn", False))).lower() == "true",
        queries=tuple(resolve.partly(q) for q in customized.get("Metrics", ())),
        name=str(resolve(props["PolicyName"])),
        metric_type=str(predefined.get("PredefinedMetricType", "Customized")),
        target=float(resolve(config["TargetValue"])),
        scale_out_cooldown=float(config.get("ScaleOutCooldown", DEFAULT_SCALE_OUT_COOLDOWN)),
        scale_in_cooldown=float(config.get("ScaleInCooldown", DEFAULT_SCALE_IN_COOLDOWN)),
        # The label names the ALB and target group, which exist on AWS only: keep it unresolved.
        resource_label=str(label.get("Fn::Sub", label)) if isinstance(label, dict) else label)


class _Resolver:
    """Resolve the few intrinsics ECS properties use, from parameters and mappings only."""

    def __init__(self, template: Template, mappings: dict[str, Any]) -> None:
        self.template, self.mappings = template, mappings

    def partly(self, value: Any) -> Any:
        """Resolve what parameters, mappings and ECS service names can; keep the rest."""
        if isinstance(value, list):
            return [self.partly(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Fn::GetAtt" and list(arg)[1:] == ["Name"] and self.template.resources.get(
                    arg[0], {}).get("Type") == ECS_SERVICE:
                return self(self.template.resources[arg[0]]["Properties"]["ServiceName"])
            if key == "Ref" and self.template.resources.get(arg, {}).get("Type") == ECS_CLUSTER:
                return self(self.template.resources[arg]["Properties"]["ClusterName"])
            if key in ("Ref", "Fn::FindInMap", "Fn::Sub"):
                try:
                    return self(value)
                except (KeyError, TemplateError):
                    return value
        return {k: self.partly(v) for k, v in value.items()}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        (key, arg), = value.items()
        if key == "Ref":
            return self.template.parameters[arg]
        if key == "Fn::FindInMap":
            table, first, second = (self(a) for a in arg)
            return self.mappings[table][first][second]
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else arg
            values = {k: self(v) for k, v in extra.items()}
            return re.sub(r"\$\{([^}!]+)\}",
                          lambda m: str(values.get(m[1], self.template.parameters.get(m[1]))),
                          text)
        raise TemplateError(f"cannot resolve {key} in an ECS property")

    def condition(self, name: str) -> bool:
        """Evaluate condition *name*; an attribute of a resource counts as set (it is on AWS)."""
        return self._truth(self.template.conditions[name])

    def _truth(self, expression: Any) -> bool:
        (key, arg), = expression.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self._truth(a) for a in arg)
        if key == "Fn::Equals":
            left, right = (self._value(a) for a in arg)
            return left == right
        raise TemplateError(f"cannot evaluate {key} in condition")

    def _value(self, value: Any) -> str:
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return "<attribute>"
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else ""
            if re.search(r"\$\{[^}]*\.[^}]*\}", text):
                return "<attribute>"
        return str(self(value))


def _ref(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    raise TemplateError(f"expected a !Ref, found {value!r}")


def cpu_metric(service: EcsService) -> MetricSpec:
    """Return ECSServiceAverageCPUUtilization's metric for *service*."""
    return MetricSpec(namespace="AWS/ECS", name="CPUUtilization", stat="Average",
                      dimensions=(("ClusterName", service.cluster),
                                  ("ServiceName", service.name)))


def request_metric(target_group: str) -> MetricSpec:
    """Return ALBRequestCountPerTarget's metric for the target group named *target_group*."""
    return MetricSpec(namespace="AWS/ApplicationELB", name="RequestCountPerTarget", stat="Sum",
                      dimensions=(("TargetGroup", target_group),))
