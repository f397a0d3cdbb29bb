"""What --enforce-iam gives moto: each process's role, its actions as the template grants."""

from __future__ import annotations

from localaws.iam import action_policies, process_roles
from localaws.template import Template


def test_each_local_process_runs_as_its_template_role(cfn: Template) -> None:
    """Services take their task definition's task role, functions their own role."""
    roles = process_roles(cfn)
    assert {k: roles[k] for k in ("gateway", "inventory", "notifier", "CheckoutApiFunction",
                                  "CheckoutWorkerFunction", "CheckoutReconcilerFunction")} == {
        "gateway": "GatewayTaskRole", "inventory": "InventoryTaskRole",
        "notifier": "NotifierTaskRole", "CheckoutApiFunction": "CheckoutApiRole",
        "CheckoutWorkerFunction": "CheckoutWorkerRole",
        "CheckoutReconcilerFunction": "CheckoutReconcilerRole"}


def test_moto_gets_the_roles_actions_on_every_resource(cfn: Template) -> None:
    """Inline and template-managed policies become actions on `*` (moto judges actions);
    a single-message SQS grant also covers its batch call, as on AWS; the gateway gets only
    what every task's SSM sidecar needs to register for fault injection."""
    (worker,) = action_policies(cfn, "CheckoutWorkerRole").values()
    (statement,) = worker["Statement"]
    assert statement["Resource"] == "*" and "Condition" not in statement
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:DeleteMessageBatch",
            "sns:Publish", "dynamodb:UpdateItem"} <= set(statement["Action"])
    assert "dynamodb:Scan" not in statement["Action"]
    notifier = action_policies(cfn, "NotifierTaskRole")
    assert set(notifier) == {"NotifierTaskPolicy", "register-for-fault-injection"}
    assert "ses:SendEmail" in notifier["NotifierTaskPolicy"]["Statement"][0]["Action"]
    gateway = action_policies(cfn, "GatewayTaskRole")
    assert set(gateway) == {"register-for-fault-injection"}
    assert set(gateway["register-for-fault-injection"]["Statement"][0]["Action"]) == {
        "ssm:CreateActivation", "ssm:AddTagsToResource", "iam:PassRole"}
