"""ECS tasks on demand, locally: RunTask at moto's endpoint starts a real process from the task
definition moto stores, and StopTask, DescribeTasks and ListTasks answer as ECS does.

The stand-in runs as the local stack runs it (`python -m localaws.ecs`, routed from moto's
server by operation); the load generator's stack is deployed into the same moto as the local
stack deploys it. The load run on these tasks is tests/e2e/test_load_smoke.py's.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from loadtests.ecs import STARTED_BY, stop_runs
from localaws.ecs.appscaling import scalable_target, write_targets
from localaws.ecs.azs import set_az_available
from localaws.loadgen import deploy_loadgen
from localaws.processes import wait_http
from tests.integration.conftest import free_port
from tests.waiting import eventually_sync

REGION = "eu-west-1"
CLUSTER = "itinera-test-tasks"
# What the task reports (to OUT, when given), then it waits for its stop (SIGTERM ends it with
# 143, as Docker's).
PROBE = """
import json, os, resource, signal, urllib.request
meta = json.load(urllib.request.urlopen(os.environ["ECS_CONTAINER_METADATA_URI_V4"] + "/task"))
seen = {"greeting": os.environ.get("GREETING"), "mood": os.environ.get("MOOD"),
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "address": meta["Containers"][0]["Networks"][0]["IPv4Addresses"][0],
        "az": meta["AvailabilityZone"], "endpoint": os.environ.get("AWS_ENDPOINT_URL")}
path = os.environ.get("OUT")
if path:
    open(path + ".tmp", "w").write(json.dumps(seen)); os.replace(path + ".tmp", path)
signal.pause()
"""


def client(service: str, moto_url: str) -> Any:
    """A boto3 client at moto's endpoint, as every tool makes one."""
    return boto3.client(service, endpoint_url=moto_url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def stand_in(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ECS stand-in process, routed from moto's endpoint; yields its state folder."""
    state_dir = tmp_path_factory.mktemp("ecs-tasks")
    port = free_port()
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    log = (state_dir / "stand-in.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localaws.ecs", "--state-dir", str(state_dir), "--port",
         str(port), "--endpoint-url", moto_url, "--region", REGION],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", child=None, timeout=30)
        ecs = client("ecs", moto_url)
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(
            family="probe", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
            cpu="256", memory="512", containerDefinitions=[{
                "name": "main", "image": "probe:1", "essential": True,
                "command": [sys.executable, "-c", PROBE],
                "environment": [{"name": "GREETING", "value": "from the definition"},
                                {"name": "MOOD", "value": "from the definition"}],
                "ulimits": [{"name": "nofile", "softLimit": nofile_limit(),
                             "hardLimit": nofile_limit()}]}])
        yield state_dir
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
        log.close()


def nofile_limit() -> int:
    """A descriptor limit the task can be given here, other than the test's own."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 3000 if soft != 3000 else 3001
    return wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)


def run(ecs: Any, *, subnets: list[str], out: Path | None = None, **more: Any) -> Any:
    """Start one probe task in *subnets* (its observations written to *out*)."""
    report = [{"name": "OUT", "value": str(out)}] if out is not None else []
    overrides = {"containerOverrides": [{"name": "main", "environment": [
        {"name": "MOOD", "value": "from the override"}, *report]}]}
    return ecs.run_task(cluster=CLUSTER, taskDefinition="probe", launchType="FARGATE",
                        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
                        overrides=overrides, **more)


def described(ecs: Any, arn: str) -> dict[str, Any]:
    """The task as DescribeTasks shows it now."""
    return dict(ecs.describe_tasks(cluster=CLUSTER, tasks=[arn])["tasks"][0])


def test_a_task_runs_its_definition_and_stops_when_told(moto_url: str, stand_in: Path,
                                                       tmp_path: Path) -> None:
    """GIVEN a task definition in moto, WHEN RunTask starts it in az-b's subnet, THEN a
    process runs with the definition's environment under the override's, its ulimit, the
    endpoint, and a metadata endpoint giving the address and AZ DescribeTasks gives; StopTask
    ends it as ECS says (UserInitiated, the reason, 143 for SIGTERM)."""
    ecs = client("ecs", moto_url)
    out = tmp_path / "seen.json"
    started = run(ecs, subnets=["subnet-local-az-b"], out=out, startedBy="probe-test")
    (task,) = started["tasks"]
    assert started["failures"] == [] and task["lastStatus"] == "RUNNING"
    seen = eventually_sync(lambda: json.loads(out.read_text()) if out.exists() else None,
                           within=30, what="the task's report")
    address = next(d["value"] for d in task["attachments"][0]["details"]
                   if d["name"] == "privateIPv4Address")
    assert seen == {"greeting": "from the definition", "mood": "from the override",
                    "nofile": nofile_limit(), "address": address, "az": "eu-west-1b",
                    "endpoint": moto_url}
    assert address.startswith("127.") and address != "127.0.0.1"
    assert task["availabilityZone"] == "eu-west-1b"
    listed = ecs.list_tasks(cluster=CLUSTER, startedBy="probe-test")["taskArns"]
    assert listed == [task["taskArn"]]

    ecs.stop_task(cluster=CLUSTER, task=task["taskArn"], reason="the test is over")
    stopped = eventually_sync(
        lambda: (t if (t := described(ecs, task["taskArn"]))["lastStatus"] == "STOPPED"
                 else None), within=40, what="the task stopped")
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == "the test is over"
    assert stopped["containers"][0]["exitCode"] == 128 + signal.SIGTERM
    assert stopped["stoppedAt"] >= stopped["startedAt"]
    assert ecs.list_tasks(cluster=CLUSTER, startedBy="probe-test")["taskArns"] == []
    assert ecs.list_tasks(cluster=CLUSTER, startedBy="probe-test",
                          desiredStatus="STOPPED")["taskArns"] == [task["taskArn"]]


def test_a_task_that_exits_stops_with_its_code_and_unknown_tasks_are_missing(
        moto_url: str, stand_in: Path) -> None:
    """A container that exits by itself stops its task (EssentialContainerExited, its exit
    code); DescribeTasks says MISSING for a task it does not know, as ECS does."""
    ecs = client("ecs", moto_url)
    started = ecs.run_task(
        cluster=CLUSTER, taskDefinition="probe",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-local-az-a"]}},
        overrides={"containerOverrides": [{"name": "main", "command": [
            sys.executable, "-c", "raise SystemExit(3)"]}]})
    arn = started["tasks"][0]["taskArn"]
    stopped = eventually_sync(
        lambda: (t if (t := described(ecs, arn))["lastStatus"] == "STOPPED" else None),
        within=30, what="the task ended")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["containers"][0]["exitCode"] == 3
    missing = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn, "not-a-task"])
    assert [t["taskArn"] for t in missing["tasks"]] == [arn]
    assert missing["failures"] == [{"arn": "not-a-task", "reason": "MISSING"}]


def test_bad_requests_are_refused_and_tasks_go_where_an_az_is_up(
        moto_url: str, stand_in: Path) -> None:
    """Refused as ECS refuses (unknown cluster, awsvpc without subnets, a subnet that is not
    local, more than ten tasks), starting nothing; with az-b unavailable a task given only
    az-b's subnet is a failure, and one given both runs in az-a; the rest of ECS is moto's."""
    ecs = client("ecs", moto_url)
    refusals = [
        ({"cluster": "no-such-cluster"}, "ClusterNotFoundException"),
        ({"networkConfiguration": {"awsvpcConfiguration": {"subnets": []}}},
         "InvalidParameterException"),
        ({"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0abc"]}}},
         "InvalidParameterException"),
        ({"count": 11, "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-local-az-a"]}}}, "InvalidParameterException"),
    ]
    before = ecs.list_tasks(cluster=CLUSTER)["taskArns"]
    for extra, kind in refusals:
        request = {"cluster": CLUSTER, "taskDefinition": "probe", **extra}
        with pytest.raises(ClientError) as refused:
            ecs.run_task(**request)
        assert refused.value.response["Error"]["Code"] == kind, extra
    assert ecs.list_tasks(cluster=CLUSTER)["taskArns"] == before

    set_az_available(stand_in, "az-b", False, reason="test")
    try:
        lost = run(ecs, subnets=["subnet-local-az-b"])
        assert lost["tasks"] == [] and lost["failures"]
        moved = run(ecs, subnets=["subnet-local-az-b", "subnet-local-az-a"])
        assert moved["tasks"][0]["availabilityZone"] == "eu-west-1a"
        ecs.stop_task(cluster=CLUSTER, task=moved["tasks"][0]["taskArn"])
    finally:
        set_az_available(stand_in, "az-b", True)
    # Not routed: moto still answers for task definitions.
    assert ecs.describe_task_definition(taskDefinition="probe")["taskDefinition"][
        "family"] == "probe"


def test_the_load_generator_stack_deploys_with_the_outputs_itinera_load_reads(
        moto_url: str) -> None:
    """infra/sam/loadgen.yaml deployed locally: its outputs in CloudFormation, a results
    bucket, a cluster, and the master's and worker's task definitions as ECS describes them,
    each in its AZ's local subnet."""
    clients = {name: client(name, moto_url) for name in ("cloudformation", "sns", "sqs", "ecs")}
    outputs = deploy_loadgen(stage="tasks", region=REGION, **clients)
    stack = clients["cloudformation"].describe_stacks(StackName="itinera-loadgen-tasks")
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0]["Outputs"]} == outputs
    assert outputs["SubnetIds"] == "subnet-local-az-a,subnet-local-az-b"
    assert outputs["ClusterName"] == "itinera-tasks-loadgen"
    client("s3", moto_url).head_bucket(Bucket=outputs["ResultsBucketName"])
    for role in ("master", "worker"):
        definition = clients["ecs"].describe_task_definition(
            taskDefinition=outputs[f"{role.capitalize()}TaskDefinitionArn"])["taskDefinition"]
        (container,) = definition["containerDefinitions"]
        assert container["command"] == ["python", "-m", "loadtests.fargate", role]
        assert container["environment"] == [{"name": "ITINERA_LOAD_BUCKET",
                                             "value": outputs["ResultsBucketName"]}]
        assert container["logConfiguration"]["options"]["awslogs-group"] == \
            "/itinera/tasks/loadgen"
        assert definition["networkMode"] == "awsvpc"


class LocalEmulator:
    """The target of a tool (loadtests/targets.py), reduced to its clients at moto."""

    def __init__(self, moto_url: str) -> None:
        self.moto_url = moto_url

    def client(self, service: str) -> Any:
        """A client of *service* at the emulator."""
        return client(service, self.moto_url)


def test_an_abort_stops_the_load_tasks_and_only_those(moto_url: str, stand_in: Path) -> None:
    """`itinera gameday abort`'s part for the load: every task the load runner started in the
    loadgen stack's cluster is stopped (with the reason given), none started by anyone else."""
    clients = {name: client(name, moto_url) for name in ("cloudformation", "sns", "sqs", "ecs")}
    outputs = deploy_loadgen(stage="abort", region=REGION, **clients)
    ecs, cluster = clients["ecs"], outputs["ClusterName"]
    # Probes that report nowhere (no OUT) and wait for their stop.
    probe = {"taskDefinition": "probe",
             "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-local-az-a"]}}}
    load = ecs.run_task(cluster=cluster, count=2, startedBy=STARTED_BY, **probe)["tasks"]
    other = ecs.run_task(cluster=cluster, startedBy="someone-else",
                         **probe)["tasks"][0]["taskArn"]
    try:
        stopped = stop_runs(LocalEmulator(moto_url), "itinera-loadgen-abort",  # type: ignore[arg-type]
                            reason="itinera gameday abort")
        assert sorted(stopped) == sorted(t["taskArn"] for t in load)

        def ended() -> list[dict[str, Any]] | None:
            found = ecs.describe_tasks(cluster=cluster, tasks=stopped)["tasks"]
            return found if all(t["lastStatus"] == "STOPPED" for t in found) else None

        for task in eventually_sync(ended, within=40, what="the load's tasks stopped"):
            assert task["stoppedReason"] == "itinera gameday abort"
        assert ecs.describe_tasks(cluster=cluster, tasks=[other])["tasks"][0][
            "desiredStatus"] == "RUNNING"
    finally:
        ecs.stop_task(cluster=cluster, task=other)


def test_scaling_activities_answer_from_the_autoscalers_log(moto_url: str,
                                                            stand_in: Path) -> None:
    """GIVEN the autoscaler's log with two activities of two services and a decision that
    changed nothing, WHEN Application Auto Scaling's DescribeScalingActivities is called at
    moto's endpoint, THEN the activities come newest first with their cause, filtered by
    resource and paged; a bad request is a ValidationException; moto keeps the rest of
    Application Auto Scaling."""
    log = stand_in / "run" / "scaling.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)

    def entry(at: float, service: str, desired: int) -> str:
        return json.dumps({"at": at, "service": service, "action": "out", "activity": {
            "ActivityId": f"{service}-{at:g}", "ServiceNamespace": "ecs",
            "ResourceId": f"service/{CLUSTER}/{service}",
            "ScalableDimension": "ecs:service:DesiredCount",
            "Description": f"Setting desired count to {desired}.",
            "Cause": f"monitor alarm TargetTracking-{service}-AlarmHigh in state ALARM "
                     f"triggered policy {service}-cpu",
            "StartTime": at, "EndTime": at, "StatusCode": "Successful"}})

    log.write_text("\n".join([entry(1_800_000_000, "gateway", 4),
                              json.dumps({"at": 1_800_000_006, "action": "none"}),
                              entry(1_800_000_012, "inventory", 3)]) + "\n")
    scaling = client("application-autoscaling", moto_url)
    every = scaling.describe_scaling_activities(ServiceNamespace="ecs")["ScalingActivities"]
    assert [a["ActivityId"] for a in every] == ["inventory-1.8e+09", "gateway-1.8e+09"]
    assert every[1]["Cause"].endswith("triggered policy gateway-cpu")
    assert every[1]["StartTime"].timestamp() == 1_800_000_000
    gateway = scaling.describe_scaling_activities(
        ServiceNamespace="ecs", ResourceId=f"service/{CLUSTER}/gateway",
        ScalableDimension="ecs:service:DesiredCount")["ScalingActivities"]
    assert [a["Description"] for a in gateway] == ["Setting desired count to 4."]
    first = scaling.describe_scaling_activities(ServiceNamespace="ecs", MaxResults=1)
    rest = scaling.describe_scaling_activities(ServiceNamespace="ecs", MaxResults=1,
                                               NextToken=first["NextToken"])
    assert [a["ActivityId"] for a in first["ScalingActivities"] + rest["ScalingActivities"]
            ] == [a["ActivityId"] for a in every]
    assert "NextToken" not in rest
    with pytest.raises(ClientError) as refused:
        scaling.describe_scaling_activities(ServiceNamespace="ecs", MaxResults=500)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []


def test_scalable_targets_are_registered_and_described_through_the_api(
        moto_url: str, stand_in: Path) -> None:
    """GIVEN the stack's scalable targets, WHEN RegisterScalableTarget suspends scaling out
    and raises the maximum at moto's endpoint, THEN DescribeScalableTargets shows it and the
    rest stays; an unknown service or a minimum over the maximum is a ValidationException."""
    write_targets(stand_in, [scalable_target(CLUSTER, "gateway", low=2, high=10),
                             scalable_target(CLUSTER, "inventory", low=2, high=10)])
    scaling = client("application-autoscaling", moto_url)
    gateway = f"service/{CLUSTER}/gateway"
    scaling.register_scalable_target(
        ServiceNamespace="ecs", ResourceId=gateway, ScalableDimension="ecs:service:DesiredCount",
        MaxCapacity=12, SuspendedState={"DynamicScalingOutSuspended": True})
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs",
                                                  ResourceIds=[gateway])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 12)
    assert target["SuspendedState"] == {"DynamicScalingInSuspended": False,
                                        "DynamicScalingOutSuspended": True,
                                        "ScheduledScalingSuspended": False}
    every = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert len(every) == 2
    for bad in ({"ResourceId": f"service/{CLUSTER}/nothing"},
                {"ResourceId": gateway, "MinCapacity": 20}):
        with pytest.raises(ClientError) as refused:
            scaling.register_scalable_target(ServiceNamespace="ecs",
                                             ScalableDimension="ecs:service:DesiredCount",
                                             **bad)
        assert refused.value.response["Error"]["Code"] == "ValidationException"
