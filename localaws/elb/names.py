"""The names an ALB and its target groups would have, derived from the deployed stack.

CloudFormation names an unnamed load balancer or target group itself, and CloudWatch's
AWS/ApplicationELB dimensions carry those names:

| attribute (Fn::GetAtt)                    | local value                                      |
| ----------------------------------------- | ------------------------------------------------ |
| `<Alb>.LoadBalancerName`                  | `<stack>-<Alb logical id>` (32 chars at most)    |
| `<Alb>.LoadBalancerFullName` (dimension)  | `app/<LoadBalancerName>/<16 hex>`                |
| `<Tg>.TargetGroupName`                    | `<stack>-<Tg logical id>` (32 chars at most)     |
| `<Tg>.TargetGroupFullName` (dimension)    | `targetgroup/<TargetGroupName>/<16 hex>`         |

The hex id is a hash of region, stack and logical id: stable across runs of one stack, so
the template's alarms and dashboards (which `!Sub` these attributes) resolve locally to the
very strings the metrics agent publishes under.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from localaws.template import Template

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
MAX_NAME = 32
ATTRIBUTES = {LOAD_BALANCER: ("LoadBalancerName", "LoadBalancerFullName"),
              TARGET_GROUP: ("TargetGroupName", "TargetGroupFullName")}


def _name(stack_name: str, logical_id: str) -> str:
    # ELB names: letters, digits and hyphens, no hyphen at either end.
    cleaned = re.sub(r"[^A-Za-z0-9-]", "-", f"{stack_name}-{logical_id}")
    return cleaned[:MAX_NAME].strip("-")


def _id(region: str, stack_name: str, logical_id: str) -> str:
    return hashlib.sha256(f"{region}/{stack_name}/{logical_id}".encode()).hexdigest()[:16]


def elb_attribute(kind: str, logical_id: str, attribute: str, *, stack_name: str,
                  region: str) -> str:
    """Return what `Fn::GetAtt` gives for a load balancer's or target group's name."""
    name = _name(stack_name, logical_id)
    if attribute in ("LoadBalancerName", "TargetGroupName"):
        return name
    prefix = "app" if kind == LOAD_BALANCER else "targetgroup"
    return f"{prefix}/{name}/{_id(region, stack_name, logical_id)}"


def load_balancer_of(template: Template, target_group: str) -> str:
    """Return the logical id of the load balancer whose listener forwards to *target_group*."""
    listeners = template.of_type(LISTENER)
    forwarding = {name for name, res in listeners.items()
                  if target_group in _forwards(res["Properties"].get("DefaultActions", []))}
    for rule in template.of_type(LISTENER_RULE).values():
        props = rule["Properties"]
        if target_group in _forwards(props.get("Actions", [])):
            forwarding.add(_ref(props.get("ListenerArn")))
    balancers = sorted({_ref(listeners[name]["Properties"].get("LoadBalancerArn"))
                        for name in forwarding if name in listeners})
    if len(balancers) != 1:
        raise ValueError(f"target group {target_group} is behind {balancers or 'no'} load "
                         f"balancer(s); the local stack expects exactly one")
    return balancers[0]


def _forwards(actions: list[dict[str, Any]]) -> set[str]:
    out = set()
    for action in actions:
        if action.get("Type") != "forward":
            continue
        out.add(_ref(action.get("TargetGroupArn")))
        for group in action.get("ForwardConfig", {}).get("TargetGroups", []):
            out.add(_ref(group.get("TargetGroupArn")))
    return out - {""}


def _ref(value: Any) -> str:
    return str(value["Ref"]) if isinstance(value, dict) and "Ref" in value else ""
