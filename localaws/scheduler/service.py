"""EventBridge Scheduler's firing, locally: moto stores schedules (CreateSchedule,
UpdateSchedule, GetSchedule, ListSchedules) and never fires them; this does.

Every tick it reads the schedules through the Scheduler API, and fires each `ENABLED` one
whose time has come on the scaled clock: a schedule's next AWS time is found from its
expression, and the wait until then runs `ITINERA_TIME_SCALE` times as fast (a `rate(1
minute)` fires every 6 s at 0.1; a weekly `cron()` every 16.8 hours). A fire invokes the
target through the AWS API at the same endpoint, as Scheduler does with the schedule's role:
an ECS cluster target runs its task (RunTask, with the schedule's Input as the task's
overrides), a universal target `arn:aws:scheduler:::aws-sdk:<service>:<action>` makes that
call with the Input as its parameters. A failed invocation goes to the schedule's
dead-letter queue with Scheduler's error attributes. What fired and what is next is written
to `run/scheduler.json`, which `itinera status` reads.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from localaws.scheduler.expressions import ExpressionError, next_fire

STATE_FILE = "scheduler.json"
_UNIVERSAL = re.compile(r"^arn:aws:scheduler:::aws-sdk:([a-z0-9-]+):([A-Za-z0-9]+)$")


@dataclass
class Planned:
    """One schedule's next firing: on AWS's clock and on the local, scaled one."""

    name: str
    group: str
    expression: str
    modified: str
    next_aws: str | None
    next_local: float | None
    last_fired: float | None = None
    last_result: str = ""
    state: str = "ENABLED"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _api_shape(value: Any, shape: Any) -> Any:
    """Return a universal target's Input with botocore's member names (the Input may spell
    them PascalCase, as the SDKs do, or as the API's JSON does: matched without case)."""
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        out = {}
        for key, item in value.items():
            name = members.get(key.lower(), key)
            out[name] = _api_shape(item, shape.members.get(name))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [_api_shape(v, shape.member) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _api_shape(v, shape.value) for k, v in value.items()}
    return value


def ecs_request(target: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return the RunTask call an ECS-cluster target makes."""
    ecs = target.get("EcsParameters", {})
    request: dict[str, Any] = {"cluster": target["Arn"],
                               "taskDefinition": ecs["TaskDefinitionArn"],
                               "count": int(ecs.get("TaskCount", 1)),
                               "startedBy": "scheduler", "overrides": overrides}
    vpc = ecs.get("NetworkConfiguration", {}).get("awsvpcConfiguration")
    if vpc:
        request["networkConfiguration"] = {"awsvpcConfiguration": {
            "subnets": vpc.get("Subnets", []), "securityGroups": vpc.get("SecurityGroups", []),
            "assignPublicIp": vpc.get("AssignPublicIp", "DISABLED")}}
    if ecs.get("CapacityProviderStrategy"):
        request["capacityProviderStrategy"] = ecs["CapacityProviderStrategy"]
    elif ecs.get("LaunchType"):
        request["launchType"] = ecs["LaunchType"]
    if ecs.get("Group"):
        request["group"] = ecs["Group"]
    return request


class LocalScheduler:
    """Fire the emulator's enabled schedules on the scaled clock."""

    def __init__(self, *, clients: Any, state_dir: Path, scale: float) -> None:
        # clients(service) -> a boto3 client at the emulator's endpoint
        self.clients = clients
        self.state_dir = state_dir
        self.scale = scale
        self.planned: dict[str, Planned] = {}

    def schedules(self) -> list[dict[str, Any]]:
        """Return every schedule in full (ListSchedules gives no targets)."""
        scheduler = self.clients("scheduler")
        found = []
        for page in scheduler.get_paginator("list_schedules").paginate():
            for summary in page["Schedules"]:
                found.append(scheduler.get_schedule(Name=summary["Name"],
                                                    GroupName=summary["GroupName"]))
        return found

    def _plan(self, schedule: dict[str, Any], now: float) -> Planned:
        key = f"{schedule['GroupName']}/{schedule['Name']}"
        modified = str(schedule.get("LastModificationDate", ""))
        known = self.planned.get(key)
        if known is not None and known.modified == modified \
                and known.expression == schedule["ScheduleExpression"]:
            return known
        # New or changed: the wait to the next AWS time starts now, scaled.
        aws_now = datetime.fromtimestamp(now, UTC)
        try:
            upcoming = next_fire(schedule["ScheduleExpression"], aws_now,
                                 timezone=schedule.get("ScheduleExpressionTimezone") or "UTC")
        except ExpressionError as exc:
            planned = Planned(key.split("/", 1)[1], schedule["GroupName"],
                              schedule["ScheduleExpression"], modified, None, None,
                              last_result=f"not followed locally: {exc}")
        else:
            planned = Planned(schedule["Name"], schedule["GroupName"],
                              schedule["ScheduleExpression"], modified,
                              upcoming.isoformat() if upcoming else None,
                              now + (upcoming - aws_now).total_seconds() * self.scale
                              if upcoming else None)
        if known is not None:
            planned.last_fired, planned.last_result = known.last_fired, known.last_result
        self.planned[key] = planned
        return planned

    def tick(self, now: float | None = None) -> list[Planned]:
        """Fire every enabled schedule that is due; return those fired."""
        now = time.time() if now is None else now
        fired = []
        seen = set()
        for schedule in self.schedules():
            planned = self._plan(schedule, now)
            planned.state = str(schedule.get("State", "ENABLED"))
            seen.add(f"{planned.group}/{planned.name}")
            if schedule.get("State") != "ENABLED" or planned.next_local is None \
                    or planned.next_local > now:
                continue
            planned.last_fired, planned.last_result = now, self.fire(schedule)
            fired.append(planned)
            # The next AWS time after this one, its wait scaled from now.
            assert planned.next_aws is not None
            after = datetime.fromisoformat(planned.next_aws)
            upcoming = next_fire(schedule["ScheduleExpression"], after,
                                 timezone=schedule.get("ScheduleExpressionTimezone") or "UTC")
            planned.next_aws = upcoming.isoformat() if upcoming else None
            planned.next_local = (now + (upcoming - after).total_seconds() * self.scale
                                  if upcoming else None)
        self.planned = {k: v for k, v in self.planned.items() if k in seen}
        self._write()
        return fired

    def fire(self, schedule: dict[str, Any]) -> str:
        """Invoke the schedule's target once; on failure send it to the dead-letter queue.
        Return what happened."""
        target = schedule["Target"]
        execution = str(uuid.uuid4())
        text = str(target.get("Input") or "{}").replace("<aws.scheduler.execution-id>",
                                                        execution)
        try:
            result = self._invoke(target, json.loads(text))
        except Exception as exc:  # any refusal of the target is a failed invocation
            error = getattr(exc, "response", {}).get("Error", {})
            code = str(error.get("Code") or type(exc).__name__)
            self._dead_letter(schedule, execution, text, code, str(exc))
            return f"failed: {code}: {exc}"
        return f"invoked: {result}"

    def _invoke(self, target: dict[str, Any], given: Any) -> str:
        arn = str(target["Arn"])
        universal = _UNIVERSAL.match(arn)
        if universal is not None:
            service, action = universal.groups()
            client = self.clients(service)
            operation = client.meta.service_model.operation_model(action[:1].upper() + action[1:])
            getattr(client, _snake(operation.name))(**_api_shape(given, operation.input_shape))
            return f"{service}:{operation.name}"
        if ":ecs:" in arn and ":cluster/" in arn:
            answer = self.clients("ecs").run_task(**ecs_request(target, given or {}))
            if answer.get("failures"):
                raise RuntimeError(f"RunTask failures: {answer['failures']}")
            return ", ".join(t["taskArn"] for t in answer["tasks"])
        raise RuntimeError(f"target {arn} is not invoked locally")

    def _dead_letter(self, schedule: dict[str, Any], execution: str, body: str, code: str,
                     message: str) -> None:
        queue = (schedule["Target"].get("DeadLetterConfig") or {}).get("Arn")
        if not queue:
            return
        sqs = self.clients("sqs")
        account, name = queue.split(":")[4:6]
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        attributes = {"ERROR_CODE": code, "ERROR_MESSAGE": message[:1000],
                      "EXECUTION_ID": execution, "SCHEDULE_ARN": schedule["Arn"],
                      "TARGET_ARN": schedule["Target"]["Arn"], "RETRY_ATTEMPTS": "0"}
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()})

    def _write(self) -> None:
        path = self.state_dir / "run" / STATE_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"scale": self.scale, "written": time.time(),
                                   "schedules": [asdict(p) for p in self.planned.values()]},
                                  indent=2))
        tmp.replace(path)


def read_state(state_dir: Path) -> dict[str, Any]:
    """Return what the local scheduler last wrote (no schedules when it has not run)."""
    try:
        return dict(json.loads((state_dir / "run" / STATE_FILE).read_text()))
    except (OSError, ValueError):
        return {"schedules": []}


def local_when(planned: dict[str, Any], now: float | None = None) -> str:
    """Return when a planned firing comes locally, as `in 3.2 h` (or why never)."""
    if planned.get("next_local") is None:
        return planned.get("last_result") or "never again"
    wait = float(planned["next_local"]) - (time.time() if now is None else now)
    if wait <= 0:
        return "due now"
    return f"in {timedelta(seconds=round(wait))}"
