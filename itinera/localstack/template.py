"""Read the SAM template, transform it like `sam deploy` would, and sort its resources."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "sam" / "template.yaml"

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
    "AWS::ApiGatewayV2::Api": "the local stack serves the HTTP API's routes and JWT authorizer",
    "AWS::ApiGatewayV2::Stage": "the local HTTP API has a single default stage",
    "AWS::IAM::Role": "moto does not enforce IAM; roles are checked by template tests instead",
}


class TemplateError(RuntimeError):
    """The template holds something the local stack does not know how to run."""


@dataclass(frozen=True)
class Template:
    """A transformed (plain CloudFormation) template and the parameter values in force."""

    resources: dict[str, dict[str, Any]]
    parameters: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        """Return the resources of the given types by logical id."""
        return {k: v for k, v in self.resources.items() if v["Type"] in types}


def load_sam(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """Parse the SAM template with its short-form intrinsics (`!Ref`, `!Sub`...)."""
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if matches or template is None:
        raise TemplateError(f"{path} does not parse: {matches}")
    return dict(template)


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
                        outputs=cfn.get("Outputs", {}))
    check_known_types(template)
    return template


def check_known_types(template: Template) -> None:
    """Raise if a resource type is neither emulated nor deliberately run locally."""
    known = CREATED_BY_STACK | APPLIED_THROUGH_API | set(EMULATED_LOCALLY)
    unknown = sorted({r["Type"] for r in template.resources.values()} - known)
    if unknown:
        raise TemplateError(
            "the local stack has no plan for these resource types: " + ", ".join(unknown)
            + " (add each to CREATED_BY_STACK, APPLIED_THROUGH_API or EMULATED_LOCALLY "
              "in itinera/localstack/template.py, with the reason)")


def stack_body(template: Template) -> dict[str, Any]:
    """Return the CloudFormation body of the resources moto creates, with their parameters."""
    resources = template.of_type(*CREATED_BY_STACK)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {name: {"Type": "String", "Default": value}
                       for name, value in template.parameters.items()},
        "Resources": resources,
    }
