"""Read the SAM template, transform it like `sam deploy` would, and sort its resources."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "infra" / "sam" / "template.yaml"

# Created in the emulator through moto's CloudFormation.
CREATED_BY_STACK = frozenset({
    "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::S3::Bucket",
})
# moto's CloudFormation skips these ("No Moto CloudFormation support"), so the local stack
# applies them through the service APIs after the stack exists.
APPLIED_THROUGH_API = frozenset({"AWS::SNS::Subscription", "AWS::SQS::QueuePolicy"})
# Run by the local stack itself, each with the reason it is not created in moto.
EMULATED_LOCALLY: dict[str, str] = {
    "AWS::Lambda::Function": "moto's Lambda invoke needs Docker; the local stack imports and "
                             "invokes the handler",
    "AWS::Lambda::EventSourceMapping": "the local stack polls the queue and invokes the function",
    "AWS::Lambda::Permission": "the local API gateway invokes the function directly",
    "AWS::ApiGateway::RestApi": "the local stack serves the REST API's routes, with the local "
                                "token issuer standing in for its Cognito authorizer",
    "AWS::ApiGateway::Stage": "the local REST API serves one stage at its root",
    "AWS::IAM::Role": "by default moto does not enforce IAM (template tests check roles); with "
                      "--enforce-iam each process calls moto as an IAM user holding its role's "
                      "policies (localaws/iam.py)",
    "AWS::IAM::ManagedPolicy": "attached to the IAM user of its role under --enforce-iam",
    "AWS::CloudWatch::Alarm": "moto stores alarms but never evaluates them; the local alarm "
                              "evaluator (alarms/) puts them in moto and sets their states",
    "AWS::CloudWatch::CompositeAlarm": "moto has no composite alarms; the local alarm "
                                       "evaluator keeps each under its name in moto and "
                                       "evaluates its rule",
    "AWS::Events::Rule": "the local stack invokes a scheduled rule's target function on its "
                         "rate() schedule; the loadgen stack's event rules are put in the "
                         "emulator's EventBridge (localaws/loadgen.py), which delivers the "
                         "stand-ins' FIS and ECS events to their topic",
    "AWS::Scheduler::Schedule": "created in the emulator's Scheduler (localaws/loadgen.py); "
                                "the local scheduler (localaws/scheduler) fires it on the "
                                "scaled clock",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "HAProxy (localaws/elb) runs its "
                                                "health checks and balances over the tasks",
    "AWS::CloudFront::Distribution": "localaws/cloudfront serves the web bucket and "
                                     "forwards the ALB behaviours to the public load balancer",
    "AWS::CloudFront::ResponseHeadersPolicy": "the local CloudFront removes and adds its "
                                              "headers on every answer of the web port",
    "AWS::FIS::ExperimentTemplate": "moto's FIS only records; the local FIS (localaws/fis) "
                                    "creates each through its API and carries experiments out "
                                    "on the stack",
}
# Deployed on AWS only, each with why moto cannot create it and what stands in locally.
# `Deployed.ref` gives LOCAL_REFS for these; anything else that reaches them locally is an error.
NOT_EMULATED: dict[str, str] = {
    "AWS::EC2::VPC": "one machine, one network: services listen on 127.0.0.1",
    "AWS::EC2::Subnet": "the two simulated AZs (az-a, az-b) are process groups, not subnets",
    "AWS::EC2::InternetGateway": "no VPC locally",
    "AWS::EC2::VPCGatewayAttachment": "no VPC locally",
    "AWS::EC2::EIP": "no NAT locally",
    "AWS::EC2::NatGateway": "no NAT locally",
    "AWS::EC2::RouteTable": "no VPC routing locally",
    "AWS::EC2::Route": "no VPC routing locally",
    "AWS::EC2::SubnetRouteTableAssociation": "no VPC routing locally",
    "AWS::EC2::VPCEndpoint": "services reach the emulator directly at AWS_ENDPOINT_URL",
    "AWS::EC2::FlowLog": "no VPC traffic to log locally",
    "AWS::EC2::SecurityGroup": "ports on 127.0.0.1 are not filtered; template tests check the "
                               "rules instead",
    "AWS::CloudFront::OriginAccessControl": "moto does not check signatures: the local "
                                            "distribution reads the web bucket unsigned",
    "AWS::WAFv2::WebACL": "no edge locally; the gateway's own rate limits still apply",
    "AWS::Route53::RecordSet": "the local entry is http://127.0.0.1:<port base>",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "one HAProxy per target group listens on the "
                                                 "service's local port (InventoryUrl points "
                                                 "checkout at inventory's)",
    "AWS::ElasticLoadBalancingV2::Listener": "HAProxy's frontend forwards every request to the "
                                             "target group",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "the local CloudFront sends no origin header "
                                                 "to match",
    "AWS::ECS::Cluster": "the ECS stand-in (localaws/ecs) runs the services as "
                         "processes; its name is the ClusterName metric dimension",
    "AWS::ECS::TaskDefinition": "the local stack starts `python -m <service>` with the same "
                                "environment variable names",
    "AWS::ECS::Service": "the ECS stand-in's scheduler keeps its desired count of tasks, "
                         "spread over az-a and az-b (localaws/ecs)",
    "AWS::ApplicationAutoScaling::ScalableTarget": "its bounds drive the ECS stand-in's "
                                                   "target tracking (localaws/ecs)",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "the ECS stand-in evaluates CPU and "
                                                  "requests-per-target policies locally",
    "AWS::RDS::DBCluster": "MariaDB on 127.0.0.1 stands in for Aurora MySQL",
    "AWS::RDS::DBInstance": "MariaDB on 127.0.0.1 stands in for the Aurora writer and reader",
    "AWS::RDS::DBSubnetGroup": "no VPC locally",
    "AWS::ElastiCache::ReplicationGroup": "Redis on 127.0.0.1 stands in for ElastiCache",
    "AWS::ElastiCache::SubnetGroup": "no VPC locally",
    "AWS::SecretsManager::Secret": "the local stack generates each service's token per run and "
                                   "passes them, and the MariaDB credentials, in the "
                                   "environment",
    "AWS::KMS::Key": "only log groups and the trail use the keys, and neither runs locally",
    "AWS::Logs::LogGroup": "services write JSON lines to .local/logs/<service>.log",
    "AWS::S3::BucketPolicy": "moto does not enforce bucket policies; template tests check them",
    "AWS::SNS::TopicPolicy": "moto does not enforce topic policies; template tests check them",
    "AWS::CloudWatch::Dashboard": "dashboards/ holds the same definition",
    "AWS::CloudTrail::Trail": "no account activity to audit locally",
    "AWS::ApiGateway::Deployment": "the local REST API serves the routes as the template has "
                                   "them; there is nothing to deploy",
    "AWS::ApiGateway::Account": "no API Gateway logging locally; the local API logs to "
                                ".local/logs/",
    "AWS::Backup::BackupVault": "no backups of the emulator's data",
    "AWS::Backup::BackupPlan": "no backups of the emulator's data",
    "AWS::Backup::BackupSelection": "no backups of the emulator's data",
    "AWS::CertificateManager::Certificate": "the local entry is plain HTTP on 127.0.0.1",
    "AWS::CloudFront::VpcOrigin": "no CloudFront locally",
    "AWS::Cognito::UserPool": "the local issuer (itinera token) signs traveller tokens; its "
                              "JWKS stands in for the pool's",
    "AWS::Cognito::UserPoolClient": "the local issuer's tokens carry the local audience",
    "AWS::Cognito::UserPoolDomain": "no hosted sign-in page locally",
    "AWS::Cognito::UserPoolGroup": "itinera token --admin gives the admin scope locally",
    "AWS::Cognito::UserPoolResourceServer": "the local issuer's tokens carry the same scopes",
    "AWS::RDS::DBClusterParameterGroup": "MariaDB on 127.0.0.1 runs with its own settings",
}
# Not emulated, but named: `Ref` gives the name, as CloudFormation's Ref does for these (the
# property when the template sets it, else a name made from the stack's and the resource's,
# as CloudFormation makes one). The FIS experiment templates' targets name them.
NAMED_BY: dict[str, str] = {
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::Logs::LogGroup": "LogGroupName",
}
# What `Ref` gives locally for a not-emulated resource that an emulated one refers to.
LOCAL_REFS: dict[str, str] = {
    # Empty, as before the secrets existed: the local stack passes the tokens itself.
    "AWS::SecretsManager::Secret": "",
}


class TemplateError(RuntimeError):
    """The template holds something the local stack does not know how to run."""


@dataclass(frozen=True)
class Template:
    """A transformed (plain CloudFormation) template and the parameter values in force."""

    resources: dict[str, dict[str, Any]]
    parameters: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Return the resources of the given types by logical id."""
        return {k: v for k, v in self.resources.items() if v["Type"] in types}


def load_sam(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse the SAM template with its short-form intrinsics, its nested stacks flattened."""
    from localaws.nested import FlattenError, flatten, is_nested

    template = _decode(path)
    if not is_nested(template):
        return template
    try:
        return flatten(template, path.parent, _decode)
    except FlattenError as exc:
        raise TemplateError(f"{path}: {exc}") from exc


def _decode(path: Path) -> dict[str, Any]:
    """Parse one template file with its short-form intrinsics (`!Ref`, `!Sub`...)."""
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if matches or template is None:
        raise TemplateError(f"{path} does not parse: {matches}")
    return _plain(template)


def _plain(value: Any) -> Any:
    """Return cfn-lint's decoded nodes as plain dicts, lists and strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def transform(sam: dict[str, Any], *, region: str,
              parameters: dict[str, str] | None = None) -> Template:
    """Apply the SAM transform as `sam deploy` does, after packaging code to a stand-in S3 URI."""
    from samtranslator.translator.transform import transform as sam_transform

    packaged = copy.deepcopy(sam)
    for resource in packaged.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://itinera-local-artifacts/code.zip"
    globals_fn = packaged.get("Globals", {}).get("Function", {})
    if "CodeUri" in globals_fn:
        globals_fn["CodeUri"] = "s3://itinera-local-artifacts/code.zip"

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator reads the region from here
    try:
        cfn = sam_transform(packaged, {}, _NoManagedPolicies())
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
    values = {name: str(spec.get("Default", ""))
              for name, spec in cfn.get("Parameters", {}).items()}
    values.update(parameters or {})
    template = Template(resources=cfn["Resources"], parameters=values,
                        outputs=cfn.get("Outputs", {}), conditions=cfn.get("Conditions", {}))
    check_known_types(template)
    return template


def check_known_types(template: Template) -> None:
    """Raise if a resource type is neither emulated, run locally nor deliberately left out."""
    known = CREATED_BY_STACK | APPLIED_THROUGH_API | set(EMULATED_LOCALLY) | set(NOT_EMULATED)
    unknown = sorted({r["Type"] for r in template.resources.values()} - known)
    if unknown:
        raise TemplateError(
            "the local stack has no plan for these resource types: " + ", ".join(unknown)
            + " (add each to CREATED_BY_STACK, APPLIED_THROUGH_API, EMULATED_LOCALLY or "
              "NOT_EMULATED in localaws/template.py, with the reason)")


def condition_holds(template: Template, name: str) -> bool:
    """Return whether condition *name* holds with the template's parameter values."""

    def truth(expression: Any) -> bool:
        (key, arg), = expression.items()
        if key == "Condition":
            return condition_holds(template, arg)
        if key == "Fn::Equals":
            left, right = (template.parameters.get(v["Ref"], "") if isinstance(v, dict)
                           and "Ref" in v else v for v in arg)
            if isinstance(left, dict) or isinstance(right, dict):
                raise TemplateError(f"condition {name} compares more than parameters")
            return str(left) == str(right)
        if key == "Fn::Not":
            return not truth(arg[0])
        if key == "Fn::And":
            return all(truth(a) for a in arg)
        if key == "Fn::Or":
            return any(truth(a) for a in arg)
        raise TemplateError(f"condition {name} uses {key}")

    return truth(template.conditions[name])


def stack_body(template: Template) -> dict[str, Any]:
    """Return the CloudFormation body of the resources moto creates, with their parameters.

    A resource whose Condition is false with the local parameters is left out, as
    CloudFormation would leave it out.
    """
    resources = {name: resource for name, resource in template.of_type(*CREATED_BY_STACK).items()
                 if "Condition" not in resource
                 or condition_holds(template, resource["Condition"])}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: {"Type": "String", "Default": value}
                       for name, value in template.parameters.items()},
        "Resources": resources,
    }
