"""The optional load generator stack (infra/sam/loadgen.yaml) and its image."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from localaws.template import load_sam

ROOT = Path(__file__).resolve().parents[2]
LOADGEN = ROOT / "infra" / "sam" / "loadgen.yaml"
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"


@pytest.fixture(scope="module")
def loadgen() -> dict[str, Any]:
    """The load generator template, short-form intrinsics decoded."""
    return load_sam(LOADGEN)


def test_cfn_lint_reports_nothing_on_the_loadgen_template() -> None:
    """cfn-lint finds no error, warning or informational match in loadgen.yaml."""
    from cfnlint.api import lint_file

    assert [str(m) for m in lint_file(LOADGEN)] == []


def test_checkov_passes_the_loadgen_template() -> None:
    """No checkov check fails on loadgen.yaml, and its one skip says why."""
    if not CHECKOV.exists():
        pytest.skip(f"{CHECKOV} is missing; run `make test` once to create it")
    done = subprocess.run(
        [str(CHECKOV), "-f", str(LOADGEN), "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--compact"],
        capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    assert [c["check_id"] for c in report["results"]["failed_checks"]] == []
    assert all(len(str(c["check_result"].get("suppress_comment") or "")) >= 20
               for c in report["results"]["skipped_checks"])


def test_the_outputs_are_the_ones_itinera_load_reads(loadgen: dict[str, Any]) -> None:
    """Every stack output `itinera load` reads (loadtests/ecs.py) is declared, so they match."""
    source = (ROOT / "loadtests" / "ecs.py").read_text()
    read = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and n.value in loadgen["Outputs"]}
    role_keys = {f"{role}{suffix}" for role in ("Master", "Worker")
                 for suffix in ("TaskDefinitionArn", "SecurityGroupId")}
    # The rest are for the operator: the NAT address, and the game day's runner and queue.
    operators = {"EgressIp", "GamedayRunnerTaskDefinitionArn", "GamedayDeadLetterQueueUrl"}
    assert read | role_keys | operators == set(loadgen["Outputs"])


def test_workers_reach_only_the_master_and_https(loadgen: dict[str, Any]) -> None:
    """The master accepts 5557 from workers alone; workers send only HTTPS and 5557."""
    resources = loadgen["Resources"]
    master = resources["MasterSecurityGroup"]["Properties"]
    (ingress,) = master["SecurityGroupIngress"]
    assert (ingress["FromPort"], ingress["ToPort"]) == (5557, 5557)
    assert ingress["SourceSecurityGroupId"] == {"Ref": "WorkerSecurityGroup"}
    worker = resources["WorkerSecurityGroup"]["Properties"]
    assert {(r["FromPort"], r["ToPort"]) for r in worker["SecurityGroupEgress"]} == \
        {(443, 443), (5557, 5557)}


def test_the_results_bucket_is_private_encrypted_and_expires_runs(loadgen: dict[str, Any]
                                                                  ) -> None:
    """Run folders hold tokens: the bucket blocks public access, encrypts, and expires them."""
    bucket = loadgen["Resources"]["ResultsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == {"Ref": "ResultsRetentionDays"}


def test_the_loadgen_image_installs_the_load_extra_and_runs_unprivileged() -> None:
    """The image is pinned by constraints.txt, installs the `load` extra, and drops root."""
    text = (ROOT / "infra" / "sam" / "docker" / "loadgen.Dockerfile").read_text()
    assert text.count("FROM python:3.11-slim") == 2
    assert "pip install -c constraints.txt -r requirements.txt" in text
    assert "*p['optional-dependencies']['load']" in text
    assert "COPY loadtests /app/loadtests" in text and "USER 10001" in text
    assert text.rstrip().endswith('CMD ["python", "-m", "loadtests.fargate", "worker"]')


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [st for policy in role["Properties"]["Policies"]
            for st in policy["PolicyDocument"]["Statement"]]


def test_the_weekly_game_day_runs_the_runner_with_a_dead_letter_queue(
        loadgen: dict[str, Any]) -> None:
    """The schedule (created DISABLED by default, only with a target URL and an ops topic)
    runs the game-day runner's task in the loadgen cluster, not FIS alone; it is not
    retried, its failures go to a dead-letter queue whose alarm tells the ops topic, and
    its defaults are the scheduled experiment's."""
    from chaos.experiments import load_experiments

    resources, parameters = loadgen["Resources"], loadgen["Parameters"]
    schedule = resources["GamedaySchedule"]
    assert schedule["Condition"] == "ScheduledGameday"
    props = schedule["Properties"]
    assert parameters["GamedayScheduleState"]["Default"] == "DISABLED"
    assert props["State"] == {"Ref": "GamedayScheduleState"}
    target = props["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["Cluster", "Arn"]}
    assert target["EcsParameters"]["TaskDefinitionArn"] == {"Ref": "GamedayRunnerTaskDefinition"}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["GamedayDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    (scheduled,) = [e for e in load_experiments() if e.schedule]
    assert parameters["GamedayExperiment"]["Default"] == scheduled.name
    assert parameters["GamedayScheduleExpression"]["Default"] == scheduled.schedule
    runner = resources["GamedayRunnerTaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert runner["Command"] == ["python", "-m", "chaos.gameday.task"]
    alarm = resources["GamedayDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {
        "Fn::GetAtt": ["GamedayDeadLetterQueue", "QueueName"]}
    assert alarm["AlarmActions"] == [{"Ref": "OpsTopicArn"}]
    # Its role may run the runner, pass its roles and write dead letters: nothing else.
    actions = {a for st in _statements(resources["GamedayScheduleRole"])
               for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert actions == {"ecs:RunTask", "iam:PassRole", "sqs:SendMessage"}


def test_the_runners_role_grants_exactly_the_calls_the_runner_makes(
        loadgen: dict[str, Any]) -> None:
    """The runner's task role allows the actions chaos/gameday/permissions.py lists (which
    the e2e game day checks against every call the runner makes) and PassRole, no other."""
    from chaos.gameday.permissions import PASSED_ROLES, RUNNER_ACTIONS

    granted = {a for st in _statements(loadgen["Resources"]["GamedayRunnerTaskRole"])
               for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert granted == RUNNER_ACTIONS | {PASSED_ROLES}


def test_a_failed_game_day_tells_the_operations_topic(loadgen: dict[str, Any]) -> None:
    """Two rules: FIS experiments stopped or failed, and the runner's task ending non-zero;
    both to the ops topic, whose policy admits EventBridge rules named itinera-<stage>-*."""
    resources = loadgen["Resources"]
    fis = resources["GamedayExperimentEnded"]["Properties"]
    assert fis["EventPattern"]["source"] == ["aws.fis"]
    assert fis["EventPattern"]["detail"]["new-state"]["status"] == ["stopped", "failed"]
    runner = resources["GamedayRunnerFailed"]["Properties"]
    assert runner["EventPattern"]["detail"]["containers"]["exitCode"] == [{"anything-but": 0}]
    for rule in (fis, runner):
        assert rule["Targets"] == [{"Id": "ops-topic", "Arn": {"Ref": "OpsTopicArn"}}]
        assert rule["Name"]["Fn::Sub"].startswith("itinera-${Stage}-gameday-")
    monitoring = load_sam(ROOT / "infra" / "sam" / "monitoring.yaml")
    statements = monitoring["Resources"]["AlarmsTopicPolicy"]["Properties"]["PolicyDocument"][
        "Statement"]
    gameday = next(st for st in statements if st["Sid"] == "GamedayEvents")
    assert gameday["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(
        ":rule/itinera-${Stage}-gameday-*")
