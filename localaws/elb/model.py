"""What the SAM template declares about target groups, and which ECS service registers in each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localaws.template import Template, TemplateError

TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
ECS_SERVICE = "AWS::ECS::Service"
# ALB's defaults for an HTTP target group, used where the template leaves a property out.
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 5.0
DEFAULT_HEALTHY_THRESHOLD = 5
DEFAULT_UNHEALTHY_THRESHOLD = 2
DEFAULT_DEREGISTRATION_DELAY = 300.0


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """A target group's health check, in AWS seconds (the runner scales them for local runs)."""

    path: str = "/"
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    healthy_threshold: int = DEFAULT_HEALTHY_THRESHOLD
    unhealthy_threshold: int = DEFAULT_UNHEALTHY_THRESHOLD
    matcher: str = "200"


@dataclass(frozen=True, kw_only=True)
class TargetGroup:
    """One target group and the ECS service whose tasks register in it."""

    logical_id: str
    service: str
    health: HealthCheck
    deregistration_delay: float = DEFAULT_DEREGISTRATION_DELAY


def target_groups(template: Template) -> dict[str, TargetGroup]:
    """Return the target groups by the name of the ECS service that registers in each."""
    groups = template.of_type(TARGET_GROUP)
    out: dict[str, TargetGroup] = {}
    for service in template.of_type(ECS_SERVICE).values():
        props = service["Properties"]
        for binding in props.get("LoadBalancers", []):
            logical_id = _ref(binding.get("TargetGroupArn"))
            if logical_id not in groups:
                raise TemplateError(f"ECS service {props['ServiceName']} registers in "
                                    f"{logical_id!r}, which is not a target group")
            out[str(props["ServiceName"])] = _target_group(logical_id, props["ServiceName"],
                                                           groups[logical_id]["Properties"])
    return out


def _target_group(logical_id: str, service: str, props: dict[str, Any]) -> TargetGroup:
    attributes = {a["Key"]: a["Value"] for a in props.get("TargetGroupAttributes", [])}
    health = HealthCheck(
        path=str(props.get("HealthCheckPath", "/")),
        interval=float(props.get("HealthCheckIntervalSeconds", DEFAULT_INTERVAL)),
        timeout=float(props.get("HealthCheckTimeoutSeconds", DEFAULT_TIMEOUT)),
        healthy_threshold=int(props.get("HealthyThresholdCount", DEFAULT_HEALTHY_THRESHOLD)),
        unhealthy_threshold=int(props.get("UnhealthyThresholdCount",
                                          DEFAULT_UNHEALTHY_THRESHOLD)),
        matcher=str(props.get("Matcher", {}).get("HttpCode", "200")))
    delay = float(attributes.get("deregistration_delay.timeout_seconds",
                                 DEFAULT_DEREGISTRATION_DELAY))
    return TargetGroup(logical_id=logical_id, service=service, health=health,
                       deregistration_delay=delay)


def _ref(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    raise TemplateError(f"a LoadBalancers entry names its target group as {value!r}; "
                        "the local stack expects !Ref <TargetGroup>")
