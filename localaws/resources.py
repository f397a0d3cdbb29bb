"""Deploy the template's AWS resources into the emulator and resolve intrinsics against them."""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from localaws.config import AZS
from localaws.elb.names import ATTRIBUTES, elb_attribute
from localaws.template import (
    LOCAL_REFS,
    NAMED_BY,
    NOT_EMULATED,
    Template,
    TemplateError,
    stack_body,
)

ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass(frozen=True)
class Deployed:
    """Physical ids of a deployed stack, enough to resolve `Ref`, `GetAtt` and `Sub`."""

    template: Template
    region: str
    stack_name: str
    physical: dict[str, str]

    def ref(self, name: str) -> str:
        """Return what `Ref` gives for a parameter, pseudo parameter or resource."""
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID,
                  "AWS::Partition": "aws", "AWS::StackName": self.stack_name,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": ""}
        if name in pseudo:
            return pseudo[name]
        if name in self.template.parameters:
            return self.template.parameters[name]
        if name in self.physical:
            return self.physical[name]
        kind = self.template.resources.get(name, {}).get("Type", "")
        if kind == "AWS::Lambda::Function":
            # A local function's name is its logical id: the Lambda host's FunctionName (its
            # AWS/Lambda metrics' dimension) and the name in its ARN.
            return name
        if kind in LOCAL_REFS:
            return LOCAL_REFS[kind]
        if kind in NAMED_BY:
            own = self.template.resources[name].get("Properties", {}).get(NAMED_BY[kind])
            return str(self.resolve(own)) if own is not None else \
                f"{self.stack_name}-{name}".lower()
        if kind in NOT_EMULATED:
            raise TemplateError(f"Ref {name} reaches a resource that is not emulated locally "
                                f"({kind}: {NOT_EMULATED[kind]}); route it through a "
                                f"parameter and a Condition, or give {kind} a LOCAL_REFS value")
        raise TemplateError(f"cannot resolve Ref {name}")

    def get_att(self, name: str, attribute: str) -> str:
        """Return what `Fn::GetAtt` gives for the attributes the local stack needs."""
        kind = self.template.resources[name]["Type"]
        if attribute in ATTRIBUTES.get(kind, ()):
            # The names CloudWatch's AWS/ApplicationELB dimensions carry (elb/names.py).
            return elb_attribute(kind, name, attribute, stack_name=self.stack_name,
                                 region=self.region)
        if kind == "AWS::ECS::Cluster" and attribute == "Arn":
            # The clusters are the emulator's (moto's ECS), named as the template names them.
            return f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:cluster/{self.ref(name)}"
        if kind in NOT_EMULATED:
            raise TemplateError(f"GetAtt {name}.{attribute} reaches a resource that is not "
                                f"emulated locally ({kind}: {NOT_EMULATED[kind]}); route it "
                                f"through a parameter and a Condition")
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            # Roles are the local stack's own (localaws/iam.py), named by their logical id.
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{self.physical.get(name, name)}"
        physical = self.ref(name)
        if kind == "AWS::SQS::Queue":
            queue_name = physical.rsplit("/", 1)[-1]
            arn = f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{queue_name}"
            return {"Arn": arn, "QueueName": queue_name, "QueueUrl": physical}[attribute]
        if kind == "AWS::SNS::Topic":
            return {"TopicArn": physical, "TopicName": physical.rsplit(":", 1)[-1]}[attribute]
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{physical}"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        raise TemplateError(f"cannot resolve GetAtt {name}.{attribute}")

    def condition(self, name: str) -> bool:
        """Evaluate the template condition *name* with the parameter values in force."""
        if name not in self.template.conditions:
            raise TemplateError(f"unknown condition {name}")
        return self._truth(self.template.conditions[name])

    def _truth(self, value: Any) -> bool:
        (key, arg), = value.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(v) for v in arg)
        if key == "Fn::Or":
            return any(self._truth(v) for v in arg)
        raise TemplateError(f"cannot evaluate condition function {key}")

    def resolve(self, value: Any) -> Any:
        """Resolve the intrinsic functions in *value*."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::If":
                name, when_true, when_false = arg
                # Only the branch CloudFormation would take is resolved.
                return self.resolve(when_true if self.condition(name) else when_false)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(p) for p in self.resolve(parts))
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
            if key == "Fn::Cidr":
                block, count, bits = self.resolve(arg)
                network = ipaddress.ip_network(str(block))
                subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
                return [str(n) for n in itertools.islice(subnets, int(count))]
            if key == "Fn::GetAZs":
                return list(AZS)  # the local stack's AZs, as the template's defaults pick
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        extra = {k: self.resolve(v) for k, v in extra.items()}

        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, text)


def deploy(template: Template, *, cloudformation: Any, sns: Any, sqs: Any,
           stack_name: str, region: str, timeout: float = 60) -> Deployed:
    """Create the stack in moto, then apply what moto's CloudFormation skips."""
    existing = {s["StackName"] for s in cloudformation.list_stacks()["StackSummaries"]
                if s["StackStatus"] != "DELETE_COMPLETE"}
    if stack_name in existing:
        raise TemplateError(f"stack {stack_name} already exists in the emulator")
    cloudformation.create_stack(StackName=stack_name,
                                TemplateBody=json.dumps(stack_body(template)))
    deadline = time.monotonic() + timeout
    while True:
        status = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            break
        if not status.endswith("IN_PROGRESS") or time.monotonic() > deadline:
            raise TemplateError(f"stack {stack_name} ended {status}")
        time.sleep(0.2)
    summaries = cloudformation.list_stack_resources(StackName=stack_name)
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in summaries["StackResourceSummaries"] if r.get("LogicalResourceId")}
    expected = set(stack_body(template)["Resources"])
    missing = expected - set(physical)
    if missing:
        raise TemplateError(f"moto did not create: {sorted(missing)}")
    deployed = Deployed(template=template, region=region, stack_name=stack_name,
                        physical=physical)
    _apply_queue_policies(deployed, sqs)
    _apply_subscriptions(deployed, sns)
    return deployed


def _apply_queue_policies(deployed: Deployed, sqs: Any) -> None:
    for props in (r["Properties"] for r in
                  deployed.template.of_type("AWS::SQS::QueuePolicy").values()):
        policy = json.dumps(deployed.resolve(props["PolicyDocument"]))
        for queue_url in deployed.resolve(props["Queues"]):
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": policy})


def _apply_subscriptions(deployed: Deployed, sns: Any) -> None:
    for logical, resource in deployed.template.of_type("AWS::SNS::Subscription").items():
        props = deployed.resolve(resource["Properties"])
        attributes = {}
        if "FilterPolicy" in props:
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if "FilterPolicyScope" in props:
            attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
        if "RawMessageDelivery" in props:
            attributes["RawMessageDelivery"] = str(props["RawMessageDelivery"]).lower()
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        answer = sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                               Endpoint=props["Endpoint"], Attributes=attributes,
                               ReturnSubscriptionArn=True)
        deployed.physical[logical] = answer["SubscriptionArn"]
