"""`itinera load`: the load as ECS tasks of the loadgen stack, a locust master and its workers
(locust's own distributed mode), on AWS Fargate or on the local stack's ECS stand-in, with the
same calls either way; then the invariant check and the verdict.

The runner finds the loadgen stack by its CloudFormation outputs, puts the run's catalog and
tokens in the results bucket, starts the master (`RunTask`), reads its private address,
starts the workers in batches of ten, follows the master until it stops, stops what is left
(and everything, on Ctrl-C or SIGTERM), downloads the master's reports and judges them.
`--local-processes` runs locust on this machine instead (loadtests/runner.py): quicker to
start, and the same judging after.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtests import judge
from loadtests.plan import JudgedRun
from loadtests.runner import (
    aborted,
    check_after,
    find_catalog,
    judge_folder,
    machine,
    publish_metrics,
    record_scaling,
    told,
)
from loadtests.targets import Target

RUN_TASK_BATCH = 10  # ECS RunTask starts at most ten tasks per call
# Fargate needs minutes to pull and start tasks; past this a run is stuck, not slow.
STARTUP_S = 600
STARTED_BY = "itinera-load"
# A stopped task has its stop timeout (30 s on Fargate) and a little more to end.
STOP_WAIT_S = 45.0


@dataclass(frozen=True, kw_only=True)
class EcsRun(JudgedRun):
    """A load run on the loadgen stack: its plan, and its workers and stack."""

    workers: int
    stack_name: str
    # The stage under load: its services' scaling is recorded beside the report.
    stage: str


@dataclass
class Launched:
    """The tasks of one run, for following and stopping them."""

    cluster: str
    master: str = ""
    workers: list[str] | None = None

    def every(self) -> list[str]:
        """Return every task's ARN, the master's first."""
        return [a for a in [self.master, *(self.workers or [])] if a]


def run_environment(run: EcsRun, *, run_id: str, prefix: str) -> dict[str, str]:
    """Return what the master and every worker of the run read from their environment."""
    return {"ITINERA_LOAD_PREFIX": prefix, "ITINERA_LOAD_RUN_ID": run_id,
            "ITINERA_LOAD_HOST": run.host, "ITINERA_LOAD_SHAPE": run.shape,
            "ITINERA_LOAD_USERS": str(run.users),
            "ITINERA_LOAD_DURATION": f"{run.duration_s:g}",
            "ITINERA_LOAD_RATE": f"{run.rate or 0:g}",
            "ITINERA_LOAD_WORKERS": str(run.workers),
            "ITINERA_LOAD_CONFIRM_DEADLINE": f"{run.confirm_deadline_s:g}",
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
        "count": count, "networkConfiguration": network, "startedBy": STARTED_BY,
        "overrides": {"containerOverrides": [{"name": "locust", "environment": [
            {"name": k, "value": v} for k, v in sorted(environment.items())]}]}}
    if role == "worker":
        # Workers are cheap to lose (the run fails visibly); the master is not put on Spot.
        request["capacityProviderStrategy"] = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    else:
        request["launchType"] = "FARGATE"
    return request


def tokens_needed(workers: int, users: int) -> int:
    """Return how many tokens the run uses: each worker its own slice, twice its users
    (room for users a spike stops and restarts)."""
    return workers * math.ceil(users / workers) * 2


def worker_batches(workers: int, users: int) -> list[tuple[int, int]]:
    """Return (first token line, tasks) per RunTask call; each worker gets its own tokens."""
    per_worker = math.ceil(users / workers) * 2
    return [(first * per_worker, min(RUN_TASK_BATCH, workers - first))
            for first in range(0, workers, RUN_TASK_BATCH)]


def private_ip(task: dict[str, Any]) -> str:
    """Return the address of a task's network interface (its awsvpc ENI)."""
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail["name"] == "privateIPv4Address":
                return str(detail["value"])
    raise RuntimeError("the master task has no private address yet")


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """Return the loadgen stack's outputs by key."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


async def _status(ecs: Any, launched: Launched) -> dict[str, dict[str, Any]]:
    found = await asyncio.to_thread(ecs.describe_tasks, cluster=launched.cluster,
                                    tasks=launched.every())
    return {t["taskArn"]: t for t in found["tasks"]}


async def _wait_running(ecs: Any, launched: Launched, arn: str, *, poll_s: float,
                        timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        task = (await _status(ecs, Launched(cluster=launched.cluster, master=arn)))[arn]
        if task["lastStatus"] == "RUNNING":
            return task
        if task["lastStatus"] == "STOPPED":
            raise RuntimeError(f"task {arn} stopped before it ran: "
                               f"{task.get('stoppedReason', '')}")
        await asyncio.sleep(poll_s)
    raise RuntimeError(f"task {arn} did not run within {timeout_s:.0f} s")


async def wait_stopped(ecs: Any, launched: Launched, *, poll_s: float,
                       timeout_s: float = STOP_WAIT_S) -> bool:
    """Wait until every task of the run has stopped (bounded); return whether they did."""
    deadline = time.monotonic() + timeout_s
    while launched.every() and time.monotonic() < deadline:
        tasks = await _status(ecs, launched)
        if all(t["lastStatus"] == "STOPPED" for t in tasks.values()):
            return True
        await asyncio.sleep(poll_s)
    return not launched.every()


async def stop_all(ecs: Any, launched: Launched, reason: str) -> None:
    """Stop every task of the run that has not stopped (StopTask is idempotent)."""
    for arn in launched.every():
        await asyncio.to_thread(ecs.stop_task, cluster=launched.cluster, task=arn,
                                reason=reason)


async def launch_and_follow(run: EcsRun, target: Target, outputs: dict[str, str], *,
                            env: dict[str, str], launched: Launched,
                            say: Callable[[str], None] = print,
                            on_running: Callable[[], None] = lambda: None) -> str | None:
    """Start the master and its workers, follow the master until it stops; return why the
    run failed, None when the master ended on its own with 0. *on_running* is called once
    the master and every worker run (locust starts the load as its workers connect). Stops
    every task on the way out (Ctrl-C, SIGTERM and cancellation included)."""
    ecs = target.client("ecs")
    try:
        master = await asyncio.to_thread(
            ecs.run_task, **run_task_request(outputs, role="master", environment=env))
        if not master["tasks"]:
            return f"the master did not start: {master.get('failures')}"
        launched.master = master["tasks"][0]["taskArn"]
        running = await _wait_running(ecs, launched, launched.master, poll_s=target.poll_s,
                                      timeout_s=STARTUP_S)
        worker_env = {**env, "ITINERA_LOAD_MASTER_HOST": private_ip(running)}
        launched.workers = []
        for offset, count in worker_batches(run.workers, run.users):
            started = await asyncio.to_thread(ecs.run_task, **run_task_request(
                outputs, role="worker", count=count,
                environment={**worker_env, "ITINERA_LOAD_TOKEN_OFFSET": str(offset)}))
            launched.workers += [t["taskArn"] for t in started["tasks"]]
            if started.get("failures"):
                return f"workers did not start: {started['failures']}"
        say(f"  master {launched.master.rsplit('/', 1)[1][:12]} at {private_ip(running)}, "
            f"{len(launched.workers)} worker(s) started")
        deadline = time.monotonic() + run.duration_s + STARTUP_S
        last, running_told = "", False
        while time.monotonic() < deadline:
            tasks = await _status(ecs, launched)
            master_task = tasks[launched.master]
            states = [tasks[a]["lastStatus"] for a in launched.workers if a in tasks]
            if not running_told and states and set(states) == {"RUNNING"}:
                on_running()
                running_told = True
            line = (f"master {master_task['lastStatus']}, workers "
                    f"{', '.join(sorted(set(states)))}")
            if line != last:
                say(f"  {line}")
                last = line
            if master_task["lastStatus"] == "STOPPED":
                code = master_task["containers"][0].get("exitCode")
                return None if code == 0 else (
                    f"the master exited with {code}: {master_task.get('stoppedReason', '')}")
            await asyncio.sleep(target.poll_s)
        return f"the master did not end within {run.duration_s + STARTUP_S:.0f} s"
    finally:
        await asyncio.shield(stop_all(ecs, launched, "itinera load: the run is over"))
        # The master, told to stop, writes and uploads what it measured: wait for it.
        await asyncio.shield(wait_stopped(ecs, launched, poll_s=target.poll_s))


def download(s3: Any, bucket: str, prefix: str, folder: Path) -> list[str]:
    """Copy the run's reports from the bucket into *folder* (never the tokens)."""
    names = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                             Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[1]
            if name != "tokens.txt":  # tokens stay in the bucket, never in a report folder
                s3.download_file(bucket, item["Key"], str(folder / name))
                names.append(name)
    return names


@dataclass(frozen=True)
class Prepared:
    """A run ready to launch: the stack's outputs, its folder in the bucket, the tasks'
    environment."""

    outputs: dict[str, str]
    bucket: str
    prefix: str
    env: dict[str, str]
    run_id: str


def prepare(run: EcsRun, target: Target, *, run_id: str,
            folder: Path) -> Prepared:
    """Read the loadgen stack, find the catalog, put it and the tokens in the run's folder
    in the results bucket (and the catalog in the report *folder*)."""
    outputs = stack_outputs(target.client("cloudformation"), run.stack_name)
    bucket = outputs["ResultsBucketName"]
    prefix = f"runs/{run_id}-{run.scenario.name}"
    ttl = int(run.duration_s) + 900
    tokens = target.tokens(tokens_needed(run.workers, run.users), run_id=run_id, ttl_s=ttl)
    catalog = asyncio.run(find_catalog(run, target, token=tokens[0], run_id=run_id))
    (folder / "catalog.json").write_text(catalog.to_json())
    s3 = target.client("s3")
    s3.put_object(Bucket=bucket, Key=f"{prefix}/catalog.json", Body=catalog.to_json().encode())
    s3.put_object(Bucket=bucket, Key=f"{prefix}/tokens.txt", Body="\n".join(tokens).encode())
    print(f"  catalog: {len(catalog.routes)} routes and days, {len(catalog.stays)} cities; "
          f"run folder s3://{bucket}/{prefix}/", flush=True)
    return Prepared(outputs=outputs, bucket=bucket, prefix=prefix, run_id=run_id,
                    env=run_environment(run, run_id=run_id, prefix=prefix))


def run_on_ecs(run: EcsRun, target: Target) -> int:
    """Run the load as ECS tasks, check, judge; return 0 when it passed, 1 otherwise, 130
    when interrupted (the tasks are stopped)."""
    # A thresholds file that does not parse fails now, not after the load.
    thresholds = judge.load_thresholds(run.scenario.name, run.thresholds_path)
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ")
    folder = run.report_root / f"{run_id}-{run.scenario.name}"
    folder.mkdir(parents=True, exist_ok=False)
    print(f"itinera load {run.scenario.name}: {run.users} users, {run.duration_s:g} s, "
          f"shape {run.shape} against {run.host}, from ECS tasks of {run.stack_name} "
          f"({target.name}): a master and {run.workers} worker(s)", flush=True)
    prepared = prepare(run, target, run_id=run_id, folder=folder)
    watched = judge.abort_document(thresholds)
    if watched:
        prepared.env["ITINERA_LOAD_ABORT"] = json.dumps(watched)
    launched = Launched(cluster=prepared.outputs["ClusterName"])

    async def main() -> str | None:
        task = asyncio.current_task()
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await launch_and_follow(run, target, prepared.outputs, env=prepared.env,
                                       launched=launched)

    try:
        error = asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("itinera load: interrupted; the master and workers were stopped", flush=True)
        return 130
    finished = datetime.now(UTC)
    download(target.client("s3"), prepared.bucket, prepared.prefix, folder)
    error = aborted(folder) or error
    if not (folder / "locust_stats.csv").exists():
        print(f"itinera load: the master wrote no stats: {error}; see {folder}", flush=True)
        return 1
    record_scaling(target, folder, stage=run.stage, started=started, finished=finished)
    publish_metrics(target, folder, scenario=run.scenario.name)
    invariants = check_after(run, target, what="load")
    result = judge_folder(
        folder, scenario=run.scenario.name,
        thresholds=thresholds,
        parameters={"users": run.users, "duration_s": run.duration_s, "shape": run.shape,
                    "rate": run.rate, "workers": run.workers, "host": run.host,
                    "target": target.name, "runner": "ecs", "time_scale": target.time_scale,
                    "baseline": str(run.baseline) if run.baseline else None,
                    "thresholds_file": str(run.thresholds_path)},
        invariants=invariants,
        extra={"run_id": run_id, "started_at": started.isoformat(),
               "finished_at": finished.isoformat(), "error": error, "machine": machine(),
               "tasks": launched.every(),
               "results": f"s3://{prepared.bucket}/{prepared.prefix}/"})
    return told(result, folder=folder, error=error)


def stop_runs(target: Target, stack_name: str, *, reason: str) -> list[str]:
    """Stop every load task still running on the loadgen stack (`itinera gameday abort`);
    return their ARNs."""
    cluster = stack_outputs(target.client("cloudformation"), stack_name)["ClusterName"]
    ecs = target.client("ecs")
    arns = [str(a) for page in ecs.get_paginator("list_tasks").paginate(
        cluster=cluster, startedBy=STARTED_BY) for a in page["taskArns"]]
    for arn in arns:
        ecs.stop_task(cluster=cluster, task=arn, reason=reason)
    return arns
