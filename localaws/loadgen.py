"""The load generator's stack (infra/sam/loadgen.yaml), deployed into the local stack.

`itinera load` and the game days find the loadgen stack as they find it on AWS: by its
CloudFormation outputs (cluster, task definitions, subnets, results bucket). Locally the
results bucket is created by moto's CloudFormation like every bucket; the cluster and the
master's and worker's task definitions are created through the ECS API (moto's
CloudFormation makes none that ECS can describe), and the ECS stand-in (localaws/ecs) runs
their tasks. The network is one machine's: each private subnet is its AZ's local subnet
(`subnet-local-<az>`), security groups filter nothing, and the NAT address is 127.0.0.1.
The image is this checkout: a task runs its container's command here.
"""

from __future__ import annotations

import json
from typing import Any

from localaws.config import ROOT
from localaws.ecs.runtask import local_subnet
from localaws.resources import Deployed, deploy
from localaws.template import load_sam, stack_body, transform

LOADGEN_PATH = ROOT / "infra" / "sam" / "loadgen.yaml"
# Keys whose values are maps of the user's own names, kept as written.
_LITERAL_MAPS = frozenset({"Options", "DockerLabels"})
# Where CloudFormation's property name is not the API's.
_RENAMED = {"ClusterSettings": "settings"}


def stack_name(stage: str) -> str:
    """Return the loadgen stack's name for *stage* (as `itinera load --stack-name` takes)."""
    return f"itinera-loadgen-{stage}"


def api_shape(properties: Any) -> Any:
    """Return CloudFormation properties in the ECS API's shape: each key's first letter
    lowered (`ContainerDefinitions` is `containerDefinitions`), numbers as ECS takes them."""
    if isinstance(properties, list):
        return [api_shape(v) for v in properties]
    if not isinstance(properties, dict):
        return properties
    out: dict[str, Any] = {}
    for key, value in properties.items():
        name = _RENAMED.get(key, key[:1].lower() + key[1:])
        if key in _LITERAL_MAPS:
            out[name] = {k: str(v) for k, v in value.items()}
        elif key in ("Cpu", "Memory") and not isinstance(value, dict):
            out[name] = str(value)
        elif key == "Tags":
            out["tags"] = [{"key": t["Key"], "value": str(t["Value"])} for t in value]
        else:
            out[name] = api_shape(value)
    return out


def _network(template: Any, first: Deployed) -> dict[str, str]:
    """Return what `Ref` gives locally for the network the tasks would run in."""
    physical = {}
    for name, resource in template.of_type("AWS::EC2::Subnet").items():
        az = first.resolve(resource["Properties"]["AvailabilityZone"])
        physical[name] = local_subnet(str(az))
    for name in template.of_type("AWS::EC2::SecurityGroup"):
        physical[name] = f"sg-local-{name.lower()}"
    for name in template.of_type("AWS::EC2::EIP"):
        physical[name] = "127.0.0.1"
    return physical


def _schedule_target(value: Any) -> Any:
    """Return a schedule's CloudFormation Target in the Scheduler API's shape (the same
    PascalCase, but `awsvpcConfiguration`)."""
    if isinstance(value, dict):
        return {("awsvpcConfiguration" if k == "AwsvpcConfiguration" else k):
                _schedule_target(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_schedule_target(v) for v in value]
    return value


def _active(template: Any, deployed: Deployed, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template.of_type(kind).items()
            if "Condition" not in r or deployed.condition(r["Condition"])}


def apply_schedules_and_rules(deployed: Deployed, *, scheduler: Any, events: Any) -> list[str]:
    """Create the template's schedules (in the emulator's Scheduler, which the local
    scheduler fires) and EventBridge rules with their targets; return their names."""
    made = []
    for resource in _active(deployed.template, deployed, "AWS::Scheduler::Schedule").values():
        props = deployed.resolve(resource["Properties"])
        scheduler.create_schedule(
            Name=props["Name"], Description=props.get("Description", ""),
            State=props.get("State", "ENABLED"),
            ScheduleExpression=props["ScheduleExpression"],
            ScheduleExpressionTimezone=props.get("ScheduleExpressionTimezone", "UTC"),
            FlexibleTimeWindow=props["FlexibleTimeWindow"],
            Target=_schedule_target(props["Target"]))
        made.append(props["Name"])
    for resource in _active(deployed.template, deployed, "AWS::Events::Rule").values():
        props = deployed.resolve(resource["Properties"])
        events.put_rule(Name=props["Name"], Description=props.get("Description", ""),
                        EventPattern=json.dumps(props["EventPattern"]), State="ENABLED")
        events.put_targets(Rule=props["Name"], Targets=[
            {"Id": t["Id"], "Arn": t["Arn"]} for t in props["Targets"]])
        made.append(props["Name"])
    return made


def deploy_loadgen(*, stage: str, region: str, cloudformation: Any, sns: Any, sqs: Any,
                   ecs: Any, scheduler: Any = None, events: Any = None,
                   parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Deploy the loadgen stack; return its outputs (also in its CloudFormation stack).
    With *scheduler* and *events*, its schedules and rules are created too."""
    template = transform(load_sam(LOADGEN_PATH), region=region,
                         parameters={"Stage": stage, **(parameters or {})})
    name = stack_name(stage)
    first = deploy(template, cloudformation=cloudformation, sns=sns, sqs=sqs, stack_name=name,
                   region=region)
    physical = {**first.physical, **_network(template, first)}
    deployed = Deployed(template=template, region=region, stack_name=name, physical=physical)
    for resource in template.of_type("AWS::ECS::Cluster").values():
        ecs.create_cluster(**api_shape(deployed.resolve(resource["Properties"])))
    for logical, resource in template.of_type("AWS::ECS::TaskDefinition").items():
        request = api_shape(deployed.resolve(resource["Properties"]))
        registered = ecs.register_task_definition(**request)["taskDefinition"]
        physical[logical] = str(registered["taskDefinitionArn"])
    deployed = Deployed(template=template, region=region, stack_name=name, physical=physical)
    outputs = {key: str(deployed.resolve(spec["Value"]))
               for key, spec in template.outputs.items()}
    if scheduler is not None and events is not None:
        apply_schedules_and_rules(deployed, scheduler=scheduler, events=events)
    # The outputs, as literals, in the stack CloudFormation describes.
    body = {**stack_body(template), "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    cloudformation.update_stack(StackName=name, TemplateBody=json.dumps(body))
    return outputs
