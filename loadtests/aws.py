"""`itinera load --target aws`: run the load from the loadgen stack's Fargate tasks, then judge.

Untested against AWS (nothing here can deploy); the request shapes are unit-tested.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from itinera.http import ServiceClient
from loadtests import judge, summary
from loadtests.catalog import discover
from loadtests.invariants import not_run
from loadtests.plan import LoadPlan

RUN_TASK_BATCH = 10  # ECS RunTask starts at most ten tasks per call
POLL_S = 15
# Fargate needs minutes to pull and start tasks; past this a run is stuck, not slow.
STARTUP_S = 600


@dataclass(frozen=True, kw_only=True)
class AwsRun(LoadPlan):
    """A load run on the loadgen stack: its plan, and the workers and stack it runs on."""

    workers: int
    stack_name: str
    host: str | None
    tokens_file: Path | None


def run_environment(run: AwsRun, *, run_id: str, prefix: str) -> dict[str, str]:
    """Return what the master and every worker of the run read from their environment."""
    return {"ITINERA_LOAD_PREFIX": prefix, "ITINERA_LOAD_RUN_ID": run_id,
            "ITINERA_LOAD_HOST": run.host or "", "ITINERA_LOAD_SHAPE": run.shape,
            "ITINERA_LOAD_USERS": str(run.users),
            "ITINERA_LOAD_DURATION": f"{run.duration_s:g}",
            "ITINERA_LOAD_RATE": f"{run.rate or 0:g}",
            "ITINERA_LOAD_WORKERS": str(run.workers),
            "ITINERA_LOAD_TRAVELLERS": ",".join(run.scenario.travellers)}


def run_task_request(outputs: dict[str, str], *, role: str, environment: dict[str, str],
                     count: int = 1) -> dict[str, Any]:
    """Return the ECS RunTask arguments of the master or of *count* workers."""
    network = {"awsvpcConfiguration": {
        "subnets": outputs["SubnetIds"].split(","), "assignPublicIp": "DISABLED",
        "securityGroups": [outputs[f"{role.capitalize()}SecurityGroupId"]]}}
    request: dict[str, Any] = {
        "cluster": outputs["ClusterName"],
        "taskDefinition": outputs[f"{role.capitalize()}TaskDefinitionArn"],
        "count": count, "networkConfiguration": network, "startedBy": "itinera-load",
        "overrides": {"containerOverrides": [{"name": "locust", "environment": [
            {"name": k, "value": v} for k, v in sorted(environment.items())]}]}}
    if role == "worker":
        # Workers are cheap to lose (the run fails visibly); the master is not put on Spot.
        request["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    else:
        request["launchType"] = "FARGATE"
    return request


def worker_batches(workers: int, users: int) -> list[tuple[int, int]]:
    """Return (first token line, tasks) per RunTask call; each worker gets its own tokens."""
    per_worker = math.ceil(users / workers) * 2  # room for users a spike stops and restarts
    return [(first * per_worker, min(RUN_TASK_BATCH, workers - first))
            for first in range(0, workers, RUN_TASK_BATCH)]


def _private_ip(task: dict[str, Any]) -> str:
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail["name"] == "privateIPv4Address":
                return str(detail["value"])
    raise RuntimeError("the master task has no private address yet")


def run_on_aws(run: AwsRun) -> int:
    """Start the master and workers, wait for the master, fetch the report and judge it."""
    import boto3

    if run.scenario.flash_sale:
        raise SystemExit("flash-sale on AWS needs its flight created by an operator first; "
                         "see loadtests/README.md")
    if not run.host or urlsplit(run.host).scheme != "https":
        raise SystemExit("--target aws needs --host https://<the stack's WebUrl>")
    if run.tokens_file is None:
        raise SystemExit("--target aws needs --tokens-file (pre-issued traveller tokens)")
    tokens = [t for t in run.tokens_file.read_text().split() if t]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in boto3.client("cloudformation")
               .describe_stacks(StackName=run.stack_name)["Stacks"][0].get("Outputs", [])}
    ecs, s3 = boto3.client("ecs"), boto3.client("s3")
    bucket = outputs["ResultsBucketName"]
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    prefix = f"runs/{run_id}-{run.scenario.name}"

    async def find_catalog() -> str:
        async with aiohttp.ClientSession() as session:
            client = ServiceClient(session, run.host or "", name="gateway", timeout=10)
            return (await discover(client, today=datetime.now(UTC).date(),
                                   token=tokens[0])).to_json()

    s3.put_object(Bucket=bucket, Key=f"{prefix}/catalog.json",
                  Body=asyncio.run(find_catalog()).encode())
    s3.put_object(Bucket=bucket, Key=f"{prefix}/tokens.txt", Body="\n".join(tokens).encode())
    env = run_environment(run, run_id=run_id, prefix=prefix)
    master = ecs.run_task(**run_task_request(outputs, role="master", environment=env))
    master_arn = master["tasks"][0]["taskArn"]
    cluster = outputs["ClusterName"]
    ecs.get_waiter("tasks_running").wait(cluster=cluster, tasks=[master_arn])
    described = ecs.describe_tasks(cluster=cluster, tasks=[master_arn])["tasks"][0]
    env["ITINERA_LOAD_MASTER_HOST"] = _private_ip(described)
    workers = []
    for offset, count in worker_batches(run.workers, run.users):
        started = ecs.run_task(**run_task_request(
            outputs, role="worker", count=count,
            environment={**env, "ITINERA_LOAD_TOKEN_OFFSET": str(offset)}))
        workers += [t["taskArn"] for t in started["tasks"]]
    print(f"itinera load {run.scenario.name} on AWS: master {master_arn}, "
          f"{len(workers)} worker(s); results in s3://{bucket}/{prefix}/", flush=True)
    deadline = time.monotonic() + run.duration_s + STARTUP_S
    while time.monotonic() < deadline:
        task = ecs.describe_tasks(cluster=cluster, tasks=[master_arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            break
        time.sleep(POLL_S)
    else:
        ecs.stop_task(cluster=cluster, task=master_arn, reason="itinera load: deadline")
    for arn in workers:  # workers end with their master; make sure none is left running
        ecs.stop_task(cluster=cluster, task=arn, reason="itinera load: run over")
    folder = run.report_root / f"{run_id}-{run.scenario.name}-aws"
    folder.mkdir(parents=True)
    for item in s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/").get("Contents", []):
        name = item["Key"].rsplit("/", 1)[1]
        if name != "tokens.txt":  # tokens stay in the bucket, never in a report folder
            s3.download_file(bucket, item["Key"], str(folder / name))
    from loadtests.runner import judge_folder

    result = judge_folder(
        folder, scenario=run.scenario.name,
        thresholds=judge.load_thresholds(run.scenario.name, run.thresholds_path),
        parameters={"users": run.users, "duration_s": run.duration_s, "shape": run.shape,
                    "rate": run.rate, "processes": run.workers, "host": run.host,
                    "target": "aws", "thresholds_file": str(run.thresholds_path)},
        invariants=not_run("the stack is on AWS: run `itinera check` where Aurora and "
                           "DynamoDB are reachable"),
        extra={"run_id": run_id, "error": None})
    print(summary.table(result))
    print(f"report: {folder}/")
    return 0 if result["verdict"] == "pass" else 1
