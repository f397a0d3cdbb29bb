"""ECS tasks on demand, locally: what `RunTask`, `StopTask`, `DescribeTasks` and `ListTasks`
do on Fargate, done with processes on this machine.

moto stores clusters and task definitions well, and records a task on `RunTask` without
starting anything. Here a task is started from its task definition as Fargate starts it:
each container's command (the override's when given) with the definition's environment,
the override's on top, its secrets read from Secrets Manager or SSM, its `nofile` ulimit,
in the AZ of the subnet it was given (the local stack's subnets are `subnet-local-<az>`),
with a private address of its own (a loopback address: 127.0.0.0/8 is all this machine's)
and a task metadata endpoint (`ECS_CONTAINER_METADATA_URI_V4`) that says so. The AWS
endpoint, region and credentials come from the stand-in, as a task role's come from ECS.

Its states follow ECS's: PROVISIONING, RUNNING once the process started, DEPROVISIONING
and STOPPED when it exits (`EssentialContainerExited` with the exit code) or is stopped
(`UserInitiated`: SIGTERM to the container's main process, as `docker stop` sends it, and
SIGKILL to everything it started after the stop timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localaws.config import AZS, ROOT

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
OPERATIONS = ("RunTask", "StopTask", "DescribeTasks", "ListTasks")
# Fargate's default for a container's stopTimeout.
STOP_TIMEOUT_S = 30.0
# RunTask starts at most ten tasks a call.
MAX_COUNT = 10
SUBNET = re.compile(r"^subnet-local-(az-[a-z])$")
PIDS_FILE = "ecs-task-pids.json"
TASK_MARK = "ITINERA_LOCAL_TASK"


def local_subnet(az: str) -> str:
    """Return the id the local stack gives the subnet of *az*."""
    return f"subnet-local-{az}"


class EcsError(Exception):
    """An error ECS answers with: its `__type` and message."""

    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


@dataclass
class LocalTask:
    """One task started by RunTask, and what DescribeTasks says of it."""

    arn: str
    cluster_arn: str
    definition: dict[str, Any]
    az: str
    ip: str
    started_by: str
    launch: dict[str, str]
    overrides: dict[str, Any]
    tags: list[dict[str, str]]
    log_path: Path
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    stopping_at: float | None = None
    stopped_at: float | None = None
    last_status: str = "PROVISIONING"
    desired_status: str = "RUNNING"
    stop_code: str | None = None
    stopped_reason: str | None = None
    exit_code: int | None = None
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def task_id(self) -> str:
        """Return the task's id (the last part of its ARN)."""
        return self.arn.rsplit("/", 1)[1]

    @property
    def container(self) -> dict[str, Any]:
        """Return the task's (first, essential) container definition."""
        return dict(self.definition["containerDefinitions"][0])

    def describe(self) -> dict[str, Any]:
        """Return the task as DescribeTasks shows it."""
        subnet = local_subnet(self.az)
        container: dict[str, Any] = {
            "containerArn": f"{self.cluster_arn.replace(':cluster/', ':container/')}/"
                            f"{self.task_id}/{self.container['name']}",
            "taskArn": self.arn, "name": self.container["name"],
            "image": self.container.get("image", ""), "lastStatus": self.last_status,
            "networkInterfaces": [{"attachmentId": self.task_id, "privateIpv4Address": self.ip}]}
        if self.exit_code is not None:
            container["exitCode"] = self.exit_code
        doc: dict[str, Any] = {
            "taskArn": self.arn, "clusterArn": self.cluster_arn,
            "taskDefinitionArn": self.definition["taskDefinitionArn"],
            "group": f"family:{self.definition['family']}", "startedBy": self.started_by,
            "lastStatus": self.last_status, "desiredStatus": self.desired_status,
            "availabilityZone": AZ_NAMES.get(self.az, self.az), "createdAt": self.created_at,
            "cpu": str(self.definition.get("cpu", "")),
            "memory": str(self.definition.get("memory", "")),
            "overrides": self.overrides, "tags": self.tags, "containers": [container],
            "attachments": [{"id": self.task_id, "type": "ElasticNetworkInterface",
                             "status": "DELETED" if self.stopped_at else "ATTACHED",
                             "details": [{"name": "subnetId", "value": subnet},
                                         {"name": "privateIPv4Address", "value": self.ip}]}],
            **self.launch}
        for key, value in (("startedAt", self.started_at), ("stoppingAt", self.stopping_at),
                           ("stoppedAt", self.stopped_at), ("stopCode", self.stop_code),
                           ("stoppedReason", self.stopped_reason)):
            if value is not None:
                doc[key] = value
        return doc

    def metadata(self) -> dict[str, Any]:
        """Return the task metadata endpoint's `/task` document (version 4)."""
        return {"Cluster": self.cluster_arn, "TaskARN": self.arn,
                "Family": self.definition["family"],
                "Revision": str(self.definition.get("revision", 1)),
                "DesiredStatus": self.desired_status, "KnownStatus": self.last_status,
                "AvailabilityZone": AZ_NAMES.get(self.az, self.az), "LaunchType": "FARGATE",
                "Containers": [{"Name": self.container["name"], "KnownStatus": self.last_status,
                                "Networks": [{"NetworkMode": "awsvpc",
                                              "IPv4Addresses": [self.ip]}]}]}


# The local AZs as a task reports them: the region's first zones.
AZ_NAMES: dict[str, str] = {}


def _ulimits(container: dict[str, Any]) -> Callable[[], None] | None:
    limits = [(u["softLimit"], u["hardLimit"]) for u in container.get("ulimits", [])
              if u.get("name") == "nofile"]
    if not limits:
        return None
    soft, hard = limits[0]
    _, ceiling = resource.getrlimit(resource.RLIMIT_NOFILE)
    capped = (min(soft, ceiling), min(hard, ceiling)) if ceiling != resource.RLIM_INFINITY \
        else (soft, hard)

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, capped)

    return apply


class Tasks:
    """The tasks RunTask started; each a process in its own session."""

    def __init__(self, *, ecs: Any, secrets_reader: Callable[[str], str], region: str,
                 account: str, state_dir: Path, aws_env: dict[str, str], address_prefix: str,
                 metadata_url: str, available: Callable[[], list[str]],
                 stop_timeout_s: float = STOP_TIMEOUT_S,
                 put_event: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self.ecs = ecs
        self.read_secret = secrets_reader
        self.region, self.account = region, account
        self.state_dir = state_dir
        self.aws_env = aws_env
        self.address_prefix = address_prefix
        self.metadata_url = metadata_url
        self.available = available
        self.stop_timeout_s = stop_timeout_s
        # EventBridge PutEvents of one entry, as ECS sends "ECS Task State Change" events.
        self.put_event = put_event
        self.tasks: dict[str, LocalTask] = {}
        self._addresses = 0
        self._definitions: dict[str, dict[str, Any]] = {}
        self._watchers: set[asyncio.Task[None]] = set()
        for i, az in enumerate(AZS):
            AZ_NAMES[az] = f"{region}{'abcdef'[i]}"

    # ------------------------------------------------------------------ the API
    async def run_task(self, body: dict[str, Any]) -> dict[str, Any]:
        """Start *count* tasks of the task definition; return them (and any failures)."""
        count = int(body.get("count", 1))
        if not 1 <= count <= MAX_COUNT:
            raise EcsError("InvalidParameterException",
                           f"count must be between 1 and {MAX_COUNT}")
        cluster_arn = await self._cluster(str(body.get("cluster", "default")))
        definition = await self._definition(str(body["taskDefinition"]))
        az = self._placement(definition, body.get("networkConfiguration", {}))
        if az is None:
            return {"tasks": [], "failures": [{"reason": "No Container Instances were found in "
                                                         "your cluster (no subnet in an "
                                                         "available AZ)"}]}
        launch: dict[str, str] = {}
        strategy = body.get("capacityProviderStrategy")
        if strategy:
            launch["capacityProviderName"] = str(strategy[0]["capacityProvider"])
            launch["launchType"] = "FARGATE"
        else:
            launch["launchType"] = str(body.get("launchType", "FARGATE"))
        started = []
        for _ in range(count):
            task = LocalTask(
                arn=f"arn:aws:ecs:{self.region}:{self.account}:task/"
                    f"{cluster_arn.rsplit('/', 1)[1]}/{secrets.token_hex(16)}",
                cluster_arn=cluster_arn, definition=definition, az=az, ip=self._address(),
                started_by=str(body.get("startedBy", "")), launch=launch,
                overrides=dict(body.get("overrides", {})), tags=list(body.get("tags", [])),
                log_path=self.state_dir / "logs" / "ecs-tasks" / "pending")
            task.log_path = (self.state_dir / "logs" / "ecs-tasks"
                             / f"{definition['family']}-{task.task_id[:8]}.log")
            self.tasks[task.arn] = task
            await self._start(task)
            started.append(task.describe())
        return {"tasks": started, "failures": []}

    async def stop_task(self, body: dict[str, Any]) -> dict[str, Any]:
        """Stop one task (SIGTERM, SIGKILL after the stop timeout); return it."""
        task = self._task(str(body["task"]))
        if task.desired_status != "STOPPED":
            task.desired_status, task.stopping_at = "STOPPED", time.time()
            task.stop_code = "UserInitiated"
            task.stopped_reason = str(body.get("reason") or "Task stopped by user")
            if task.last_status == "RUNNING":
                task.last_status = "DEPROVISIONING"
            self._watch(self._stop(task))
        return {"task": task.describe()}

    def describe_tasks(self, body: dict[str, Any]) -> dict[str, Any]:
        """Return the tasks asked for; an unknown one is a failure, as ECS says MISSING."""
        found, failures = [], []
        for arn in body.get("tasks", []):
            try:
                found.append(self._task(str(arn)).describe())
            except EcsError:
                failures.append({"arn": arn, "reason": "MISSING"})
        return {"tasks": found, "failures": failures}

    def list_tasks(self, body: dict[str, Any]) -> dict[str, Any]:
        """Return the ARNs of the tasks in a cluster, by family, startedBy or desired status."""
        cluster = str(body.get("cluster", "default"))
        wanted = str(body.get("desiredStatus", "RUNNING"))
        arns = [t.arn for t in self.tasks.values()
                if cluster in (t.cluster_arn, t.cluster_arn.rsplit("/", 1)[1])
                and t.desired_status == wanted
                and body.get("family") in (None, t.definition["family"])
                and body.get("startedBy") in (None, t.started_by)]
        return {"taskArns": arns}

    def metadata(self, task_id: str) -> dict[str, Any]:
        """Return the `/task` metadata of the task whose id is *task_id*."""
        for task in self.tasks.values():
            if task.task_id == task_id:
                return task.metadata()
        raise EcsError("ResourceNotFoundException", f"no task {task_id}", status=404)

    async def close(self) -> None:
        """Stop every task still running (on the stand-in's own shutdown)."""
        for task in list(self.tasks.values()):
            if task.last_status != "STOPPED":
                await self.stop_task({"task": task.arn, "reason": "the ECS stand-in stopped"})
        if self._watchers:
            await asyncio.wait(self._watchers, timeout=self.stop_timeout_s + 5)

    # ------------------------------------------------------------------ the work
    async def _cluster(self, cluster: str) -> str:
        found = await asyncio.to_thread(self.ecs.describe_clusters, clusters=[cluster])
        active = [c for c in found["clusters"] if c.get("status") == "ACTIVE"]
        if not active:
            raise EcsError("ClusterNotFoundException", "Cluster not found.")
        return str(active[0]["clusterArn"])

    async def _definition(self, name: str) -> dict[str, Any]:
        if name not in self._definitions:
            try:
                found = await asyncio.to_thread(self.ecs.describe_task_definition,
                                                taskDefinition=name)
            except Exception as exc:
                raise EcsError("ClientException",
                               f"Unable to describe task definition {name}: {exc}") from None
            self._definitions[name] = dict(found["taskDefinition"])
        return self._definitions[name]

    def _placement(self, definition: dict[str, Any], network: dict[str, Any]) -> str | None:
        subnets = network.get("awsvpcConfiguration", {}).get("subnets", [])
        if definition.get("networkMode") == "awsvpc" and not subnets:
            raise EcsError("InvalidParameterException", "Network Configuration must be "
                                                        "provided when networkMode 'awsvpc' "
                                                        "is specified.")
        azs = []
        for subnet in subnets:
            match = SUBNET.match(str(subnet))
            if match is None:
                raise EcsError("InvalidParameterException",
                               f"subnet {subnet} is not a local subnet (subnet-local-<az>)")
            azs.append(match.group(1))
        available = self.available()
        # Fargate spreads one-off tasks over the given subnets; the first available will do.
        return next((az for az in azs or list(AZS) if az in available), None)

    def _address(self) -> str:
        self._addresses = self._addresses % 254 + 1
        return f"{self.address_prefix}.{self._addresses}"

    def _environment(self, task: LocalTask) -> dict[str, str]:
        container = task.container
        override = self._override(task)
        env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
               "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
               "PYTHONUNBUFFERED": "1", **self.aws_env,
               "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
               "ECS_CONTAINER_METADATA_URI_V4": f"{self.metadata_url}/v4/{task.task_id}",
               # How a later stand-in knows a leftover pid is this task's (never reused).
               TASK_MARK: task.task_id}
        env.update({e["name"]: str(e["value"]) for e in container.get("environment", [])})
        env.update({s["name"]: self.read_secret(str(s["valueFrom"]))
                    for s in container.get("secrets", [])})
        env.update({e["name"]: str(e["value"]) for e in override.get("environment", [])})
        return env

    def _command(self, task: LocalTask) -> list[str]:
        container = task.container
        override = self._override(task)
        command = [*container.get("entryPoint", []),
                   *(override.get("command") or container.get("command", []))]
        if not command:
            raise EcsError("InvalidParameterException",
                           f"container {container['name']} has no command to run locally")
        return [str(c) for c in command]

    @staticmethod
    def _override(task: LocalTask) -> dict[str, Any]:
        """Return RunTask's override of the task's container ({} when none)."""
        name = task.container["name"]
        return next((dict(o) for o in task.overrides.get("containerOverrides", [])
                     if o.get("name") == name), {})

    async def _start(self, task: LocalTask) -> None:
        command, env = self._command(task), self._environment(task)
        task.log_path.parent.mkdir(parents=True, exist_ok=True)
        with task.log_path.open("ab") as log:
            task.process = await asyncio.create_subprocess_exec(
                *command, env=env, cwd=ROOT, stdout=log, stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_ulimits(task.container))
        task.last_status, task.started_at = "RUNNING", time.time()
        self._remember_pids()
        self._watch(self._changed(task))
        self._watch(self._reap(task))

    async def _reap(self, task: LocalTask) -> None:
        assert task.process is not None
        code = await task.process.wait()
        # The container is gone with its main process: so is anything it started.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(task.process.pid, signal.SIGKILL)
        # A container killed by a signal exits 128 + its number, as Docker reports it.
        code = 128 - code if code < 0 else code
        task.exit_code, task.last_status, task.stopped_at = code, "STOPPED", time.time()
        task.desired_status = "STOPPED"
        if task.stop_code is None:
            task.stop_code = "EssentialContainerExited"
            task.stopped_reason = "Essential container in task exited"
        task.ended.set()
        self._remember_pids()
        await self._changed(task)

    async def _changed(self, task: LocalTask) -> None:
        """Send the task's "ECS Task State Change" event to EventBridge's default bus."""
        if self.put_event is None:
            return
        doc = task.describe()
        detail: dict[str, Any] = {key: doc[key] for key in (
            "clusterArn", "taskArn", "taskDefinitionArn", "group", "startedBy", "lastStatus",
            "desiredStatus", "availabilityZone", "launchType", "stopCode", "stoppedReason",
            "createdAt", "startedAt", "stoppedAt") if key in doc}
        detail["containers"] = [{k: c[k] for k in ("name", "lastStatus", "exitCode") if k in c}
                                for c in doc["containers"]]
        entry = {"Source": "aws.ecs", "DetailType": "ECS Task State Change",
                 "Resources": [task.arn], "Detail": json.dumps(detail)}
        try:
            await asyncio.to_thread(self.put_event, entry)
        except Exception as exc:  # an event lost is said, never fatal
            print(json.dumps({"message": "ECS event not sent", "error": repr(exc)}), flush=True)

    async def _stop(self, task: LocalTask) -> None:
        """Stop as `docker stop` does: SIGTERM to the container's main process, which may
        pass it on and finish its work; SIGKILL to all of it after the stop timeout."""
        if task.process is None or task.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            task.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(task.ended.wait(), timeout=self.stop_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(task.process.pid, signal.SIGKILL)

    def _task(self, arn: str) -> LocalTask:
        for task in self.tasks.values():
            if arn in (task.arn, task.task_id):
                return task
        raise EcsError("InvalidParameterException", f"The referenced task was not found: {arn}")

    def _watch(self, work: Any) -> None:
        watcher = asyncio.ensure_future(work)
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)

    def _remember_pids(self) -> None:
        """Write the running tasks' pids, so a stand-in that was killed leaves none behind."""
        pids = {t.task_id: t.process.pid for t in self.tasks.values()
                if t.process is not None and t.last_status != "STOPPED"}
        path = self.state_dir / "run" / PIDS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(pids))


def reap_leftover_tasks(state_dir: Path) -> list[str]:
    """Kill the tasks a stand-in that died without stopping them left running."""
    path = state_dir / "run" / PIDS_FILE
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    stopped = []
    for task_id, pid in pids.items():
        try:
            environ = Path(f"/proc/{int(pid)}/environ").read_bytes()
        except OSError:
            continue
        if f"{TASK_MARK}={task_id}".encode() not in environ:
            continue  # the pid is someone else's by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(pid), signal.SIGKILL)
            stopped.append(f"stopped ECS task {task_id} (pid {pid}) left over")
    path.unlink()
    return stopped
