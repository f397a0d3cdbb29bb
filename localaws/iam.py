"""IAM enforcement in the emulator: each process calls moto with its own role's credentials.

With `itinera run --enforce-iam`, the local stack creates in moto one IAM role per task and
function role of the template, with that role's identity policies, assumes each, hands every
process the temporary credentials of its own role (a task's TaskRoleArn, a function's Role),
and then switches moto's enforcement on (`/moto-api/reset-auth`, as INITIAL_NO_AUTH_ACTION_COUNT
does). A call outside the role is then refused with AccessDenied, as on AWS.

moto evaluates actions, not resources or conditions: each statement is given to moto with
`Resource: "*"` and without its condition, so moto proves the actions; resource scoping is
checked by the template tests (tests/infra/test_template.py).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

from localaws.template import Template, TemplateError

# AWS authorizes a batch call as its single-message action; moto names the batch action.
BATCH_ALIASES = {
    "sqs:SendMessage": "sqs:SendMessageBatch",
    "sqs:DeleteMessage": "sqs:DeleteMessageBatch",
    "sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibilityBatch",
}
OPERATOR = "itinera-local-operator"


@dataclass(frozen=True)
class Credentials:
    """Temporary credentials of one role (or the operator's keys)."""

    access_key_id: str
    secret_access_key: str
    session_token: str = ""

    def env(self) -> dict[str, str]:
        """Return the variables the AWS SDKs read these credentials from."""
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id,
               "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env


def process_roles(template: Template) -> dict[str, str]:
    """Map each process of the local stack (ECS service name, function id) to its role's id."""
    roles: dict[str, str] = {}
    tasks = template.of_type("AWS::ECS::TaskDefinition")
    for service in template.of_type("AWS::ECS::Service").values():
        props = service["Properties"]
        task = tasks[_logical(props["TaskDefinition"])]["Properties"]
        roles[str(props["ServiceName"])] = _logical(task["TaskRoleArn"])
    for name, function in template.of_type("AWS::Lambda::Function").items():
        roles[name] = _logical(function["Properties"]["Role"])
    return roles


def action_policies(template: Template, role: str) -> dict[str, dict[str, Any]]:
    """Return the role's identity policies as moto can evaluate them: actions on `*`."""
    props = template.resources[role]["Properties"]
    documents = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:  # the template's own managed policy
            managed = template.resources[arn["Ref"]]
            documents[arn["Ref"]] = managed["Properties"]["PolicyDocument"]
        # AWS managed policies (VPC access, logs) grant nothing the local processes call.
    projected = {}
    for name, document in documents.items():
        statements = document["Statement"]
        actions: list[str] = []
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow":
                continue
            granted = statement["Action"]
            for action in granted if isinstance(granted, list) else [granted]:
                if not isinstance(action, str):
                    raise TemplateError(f"{role}: an action must be a literal, got {action!r}")
                actions += [action] + ([BATCH_ALIASES[action]] if action in BATCH_ALIASES
                                       else [])
        if actions:
            projected[name] = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": sorted(set(actions)), "Resource": "*"}]}
    return projected


def provision(template: Template, *, iam: Any, sts: Any, account_id: str
              ) -> tuple[dict[str, Credentials], Credentials]:
    """Create each process role in moto, assume it, and create the operator's admin user.

    Returns the credentials by role id, and the operator's (for the stack record and tests).
    """
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "sts:AssumeRole"}]})
    credentials = {}
    for role in sorted(set(process_roles(template).values())):
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        for name, document in action_policies(template, role).items():
            iam.put_role_policy(RoleName=role, PolicyName=name,
                                PolicyDocument=json.dumps(document))
        answer = sts.assume_role(RoleArn=arn, RoleSessionName=f"local-{role}",
                                 DurationSeconds=43200)["Credentials"]
        credentials[role] = Credentials(answer["AccessKeyId"], answer["SecretAccessKey"],
                                        answer["SessionToken"])
    iam.create_user(UserName=OPERATOR)
    iam.put_user_policy(UserName=OPERATOR, PolicyName="operate-the-local-stack",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=OPERATOR)["AccessKey"]
    return credentials, Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def enforce(moto_url: str) -> None:
    """Make moto check every later request's signature and permissions."""
    url = f"{moto_url}/moto-api/reset-auth"
    # Not form-encoded: moto reads the count from the raw body.
    request = urllib.request.Request(url, data=b"0", method="POST",  # noqa: S310 - local
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - local URL
        answer.read()


def _logical(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise TemplateError(f"expected a Ref or GetAtt of a template resource, got {value!r}")
