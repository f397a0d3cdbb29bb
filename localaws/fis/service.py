"""FIS's API, locally: experiments that really run on the local stack's resources.

moto's FIS stores templates and flips an experiment's state without doing anything. This
answers the same operations (rest-json, as botocore's `fis` model calls them) at the same
endpoint (moto's server routes every request signed for `fis` here, localaws/moto_server.py)
and carries each experiment out with the local executor (localaws/fis/executor.py):

| operation | request |
| --- | --- |
| CreateExperimentTemplate | `POST /experimentTemplates` |
| GetExperimentTemplate, ListExperimentTemplates | `GET /experimentTemplates[/{id}]` |
| DeleteExperimentTemplate | `DELETE /experimentTemplates/{id}` |
| StartExperiment | `POST /experiments` |
| GetExperiment, ListExperiments | `GET /experiments[/{id}]` |
| StopExperiment | `DELETE /experiments/{id}` |

States follow FIS's documentation: an experiment is `initiating`, then `running`, and ends
`completed`, `stopped` (StopExperiment, or a stop condition's alarm in ALARM) or `failed`
(an action failed, or a stop condition was in ALARM at the start); each action is `pending`,
`running`, then `completed`, `stopped`, `cancelled` (never started), `failed` or, with
`experimentOptions.actionsMode` `skip-all` (a dry run: targets resolved, nothing done),
`skipped`. Stop conditions are the template's `aws:cloudwatch:alarm` sources, read from
CloudWatch. Whatever an experiment changed is rolled back however it ends.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from localaws.fis.actions import Effects
from localaws.fis.effects import AlarmStopCheck
from localaws.fis.executor import Outcome, RollbackFile, execute
from localaws.fis.plan import PlannedAction, plan
from localaws.fis.targets import Target, resolve

ACCOUNT = "123456789012"
# A template's local overrides (chaos/experiments' `itinera.local`: action_scale, failover_s,
# the fault proxies' dependencies), as JSON in one tag; AWS ignores it.
LOCAL_TAG = "itinera:local"
EffectsFactory = Callable[[aiohttp.ClientSession], Effects]
StopCheck = Callable[[], Awaitable[str | None]]
TERMINAL = frozenset({"completed", "stopped", "failed", "cancelled"})


class FisError(Exception):
    """An FIS error answer: its status and error type, as botocore reads them."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def not_found(what: str, ident: str) -> FisError:
    """Return FIS's answer for an unknown template or experiment."""
    return FisError(404, "ResourceNotFoundException", f"{what} {ident} not found")


def invalid(message: str) -> FisError:
    """Return FIS's answer for a request it refuses."""
    return FisError(400, "ValidationException", message)


def alarm_name(arn: str) -> str:
    """Return the alarm name at the end of a CloudWatch alarm ARN (`...:alarm:NAME`)."""
    return arn.split(":alarm:", 1)[1] if ":alarm:" in arn else arn


@dataclass
class Experiment:
    """One started experiment: its template as it was, its plan and how it is going."""

    id: str
    arn: str
    template_id: str
    template: dict[str, Any]
    actions: list[PlannedAction]
    mode: str
    tags: dict[str, str]
    local: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    status: str = "initiating"
    reason: str = "Experiment is initiating."
    ended: float | None = None
    outcome: Outcome = field(default_factory=Outcome)
    task: asyncio.Task[None] | None = None
    stop_requested: bool = False

    def action_state(self, name: str) -> dict[str, Any]:
        """Return one action's state (and times) from the executor's timeline."""
        events = [e for e in self.outcome.events if e.action == name]
        kinds = [e.kind for e in events]
        # What the action did locally (tasks stopped, proxies faulted) follows FIS's words.
        applied = " ".join(e.detail for e in events if e.kind in ("applied", "end") and e.detail)
        started = next((e.at for e in events if e.kind == "start"), None)
        ended = next((e.at for e in events if e.kind in ("end", "failed")), None)
        if self.mode == "skip-all":
            status, reason = "skipped", "Action was skipped (actionsMode skip-all)."
        elif "failed" in kinds:
            status, reason = "failed", next(e.detail for e in events if e.kind == "failed")
        elif "end" in kinds:
            status, reason = "completed", f"Action was completed. {applied}".strip()
        elif started is not None:
            if self.status in TERMINAL:
                status, reason = "stopped", f"Action was stopped. {applied}".strip()
                ended = self.ended
            else:
                status, reason = "running", f"Action is running. {applied}".strip()
        elif self.status in TERMINAL:
            status, reason = "cancelled", "Action was cancelled."
        else:
            status, reason = "pending", "Action is pending."
        state: dict[str, Any] = {"state": {"status": status, "reason": reason}}
        if started is not None:
            state["startTime"] = started
        if ended is not None:
            state["endTime"] = ended
        return state

    def describe(self, *, full: bool = True) -> dict[str, Any]:
        """Return the experiment as GetExperiment (full) or ListExperiments shows it."""
        doc: dict[str, Any] = {
            "id": self.id, "arn": self.arn,
            "experimentTemplateId": self.template_id,
            "state": {"status": self.status, "reason": self.reason},
            "creationTime": self.created, "tags": self.tags,
            "experimentOptions": {**self.template.get("experimentOptions", {}),
                                  "actionsMode": self.mode}}
        if not full:
            return doc
        template = self.template
        actions = {name: {**spec, **self.action_state(name)}
                   for name, spec in template.get("actions", {}).items()}
        doc.update({"roleArn": template.get("roleArn"), "targets": template.get("targets", {}),
                    "actions": actions, "stopConditions": template.get("stopConditions", []),
                    "startTime": self.created,
                    "logConfiguration": template.get("logConfiguration")})
        if self.ended is not None:
            doc["endTime"] = self.ended
        return {k: v for k, v in doc.items() if v is not None}


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


def log_key(prefix: str, *, region: str, experiment_id: str, at: float) -> str:
    """Return where an experiment's log goes under its S3 prefix: the vended-logs layout
    (`AWSLogs/<account>/fis/<region>/<yyyy>/<mm>/<dd>/`), one object per experiment."""
    day = time.strftime("%Y/%m/%d", time.gmtime(at))
    return (f"{prefix.strip('/') + '/' if prefix.strip('/') else ''}AWSLogs/{ACCOUNT}/fis/"
            f"{region}/{day}/{experiment_id}.log")


def log_records(experiment: Experiment) -> list[dict[str, Any]]:
    """Return the experiment's log as FIS writes it (schema version 2): its start, each
    target resolved, each action's start, error and end, and its end."""
    base = {"account_id": ACCOUNT, "experiment_template_id": experiment.template_id}

    def record(kind: str, at: float, **details: Any) -> dict[str, Any]:
        return {"id": experiment.id, "log_type": kind, "event_timestamp": _stamp(at),
                "version": "2", "details": {**base, **details}, "_at": at}

    started = experiment.created
    out = [record("experiment-start", started, experiment_start_time=_stamp(started))]
    for name, spec in experiment.template.get("targets", {}).items():
        out.append(record("target-resolution-end", started, target_name=name,
                          target_type=spec.get("resourceType"), status="completed"))
    actions = experiment.template.get("actions", {})
    for name, spec in actions.items():
        state = experiment.action_state(name)
        if "startTime" not in state:
            continue
        action = {"action_name": name, "action_id": spec.get("actionId"),
                  "action_targets": spec.get("targets", {}),
                  "parameters": spec.get("parameters", {})}
        out.append(record("action-start", state["startTime"], **action,
                          action_start_time=_stamp(state["startTime"])))
        if state["state"]["status"] == "failed":
            out.append(record("action-error", state.get("endTime", started), **action,
                              error_information=state["state"]["reason"]))
        ended = state.get("endTime", experiment.ended or started)
        out.append(record("action-end", ended, **action, action_state=state["state"],
                          action_start_time=_stamp(state["startTime"]),
                          action_end_time=_stamp(ended)))
    ended = experiment.ended or started
    out.append(record("experiment-end", ended, experiment_start_time=_stamp(started),
                      experiment_end_time=_stamp(ended),
                      experiment_state={"status": experiment.status,
                                        "reason": experiment.reason}))
    out.sort(key=lambda r: (r["_at"], _ORDER[r["log_type"]]))
    for r in out:
        del r["_at"]
    return out


_ORDER = {kind: i for i, kind in enumerate((
    "experiment-start", "target-resolution-end", "action-start", "action-error",
    "action-end", "experiment-end"))}


class Fis:
    """The templates and experiments of one local stack, and the work they do."""

    def __init__(self, *, region: str, scale: float, state_dir: Path,
                 effects: EffectsFactory, cloudwatch: Any, s3: Any = None, logs: Any = None,
                 events: Any = None, poll_s: float = 1.0) -> None:
        self.region, self.scale, self.state_dir = region, scale, state_dir
        self._effects, self._cloudwatch, self._poll_s = effects, cloudwatch, poll_s
        self._s3, self._logs, self._events = s3, logs, events
        self.templates: dict[str, dict[str, Any]] = {}
        self.experiments: dict[str, Experiment] = {}
        self._tokens: dict[str, str] = {}
        self._session: aiohttp.ClientSession | None = None

    # Templates

    @staticmethod
    def local_overrides(template: dict[str, Any]) -> dict[str, Any]:
        """Return the template's local overrides (its `itinera:local` tag), or none."""
        raw = (template.get("tags") or {}).get(LOCAL_TAG)
        if not raw:
            return {}
        try:
            found = json.loads(raw)
        except ValueError:
            raise invalid(f"tag {LOCAL_TAG} is not JSON") from None
        if not isinstance(found, dict):
            raise invalid(f"tag {LOCAL_TAG} is not a JSON object")
        return found

    def create_template(self, body: dict[str, Any]) -> dict[str, Any]:
        """Store a template (CreateExperimentTemplate) and return it."""
        token = str(body.get("clientToken") or "")
        if token and f"template:{token}" in self._tokens:
            return self.templates[self._tokens[f"template:{token}"]]
        for key in ("description", "roleArn", "actions", "stopConditions"):
            if key not in body:
                raise invalid(f"{key} is required")
        template_id = "EXT" + uuid.uuid4().hex[:14]
        now = time.time()
        template = {k: v for k, v in body.items() if k != "clientToken"}
        template.update({"id": template_id, "creationTime": now, "lastUpdateTime": now,
                         "arn": f"arn:aws:fis:{self.region}:{ACCOUNT}:"
                                f"experiment-template/{template_id}"})
        template.setdefault("targets", {})
        template.setdefault("tags", {})
        self._check(template)
        self.templates[template_id] = template
        if token:
            self._tokens[f"template:{token}"] = template_id
        return template

    def _check(self, template: dict[str, Any]) -> None:
        """Refuse a template that could not run: unknown targets, durations, predecessors."""
        try:
            actions = plan(template, scale=self.scale, local=self.local_overrides(template))
            for name, spec in template.get("targets", {}).items():
                resolve(name, spec)
        except (KeyError, ValueError) as exc:
            raise invalid(f"template cannot run locally: {exc}") from None
        names = {a.name for a in actions}
        for action in actions:
            for target in action.targets.values():
                if target not in template["targets"]:
                    raise invalid(f"action {action.name}: no target {target}")
            missing = [b for b in action.start_after if b not in names]
            if missing:
                raise invalid(f"action {action.name}: startAfter names no action {missing}")

    def template(self, template_id: str) -> dict[str, Any]:
        """Return one template (GetExperimentTemplate)."""
        if template_id not in self.templates:
            raise not_found("Experiment template", template_id)
        return self.templates[template_id]

    def delete_template(self, template_id: str) -> dict[str, Any]:
        """Delete one template (DeleteExperimentTemplate); its experiments stay listed."""
        template = self.template(template_id)
        del self.templates[template_id]
        self._tokens = {k: v for k, v in self._tokens.items() if v != template_id}
        return template

    # Experiments

    def start(self, body: dict[str, Any]) -> Experiment:
        """Start an experiment from its template (StartExperiment); the same clientToken
        gives the same experiment."""
        token = str(body.get("clientToken") or "")
        if token and f"experiment:{token}" in self._tokens:
            return self.experiments[self._tokens[f"experiment:{token}"]]
        template = self.template(str(body.get("experimentTemplateId", "")))
        mode = str((body.get("experimentOptions") or {}).get("actionsMode", "run-all"))
        if mode not in ("run-all", "skip-all"):
            raise invalid(f"actionsMode must be run-all or skip-all, not {mode!r}")
        local = self.local_overrides(template)
        experiment_id = "EXP" + uuid.uuid4().hex[:14]
        experiment = Experiment(
            id=experiment_id, arn=f"arn:aws:fis:{self.region}:{ACCOUNT}:experiment/{experiment_id}",
            template_id=template["id"],
            template=dict(template), actions=plan(template, scale=self.scale, local=local),
            mode=mode, tags=dict(body.get("tags") or {}), local=local)
        self.experiments[experiment.id] = experiment
        if token:
            self._tokens[f"experiment:{token}"] = experiment.id
        experiment.task = asyncio.create_task(self._run(experiment))
        return experiment

    def experiment(self, experiment_id: str) -> Experiment:
        """Return one experiment (GetExperiment)."""
        if experiment_id not in self.experiments:
            raise not_found("Experiment", experiment_id)
        return self.experiments[experiment_id]

    def stop(self, experiment_id: str) -> Experiment:
        """Stop a running experiment (StopExperiment): it rolls back and ends `stopped`."""
        experiment = self.experiment(experiment_id)
        if experiment.status in TERMINAL:
            raise invalid(f"experiment {experiment_id} has already ended "
                          f"({experiment.status})")
        experiment.stop_requested = True
        experiment.status, experiment.reason = "stopping", "Experiment is stopping."
        if experiment.task is not None:
            experiment.task.cancel()
        return experiment

    def _stop_check(self, experiment: Experiment) -> StopCheck:
        names = [alarm_name(str(c.get("value", "")))
                 for c in experiment.template.get("stopConditions", [])
                 if c.get("source") == "aws:cloudwatch:alarm"]
        return AlarmStopCheck(None, names, cloudwatch=self._cloudwatch)

    async def _run(self, experiment: Experiment) -> None:
        """Carry the experiment out and record how it ended."""
        outcome = experiment.outcome
        try:
            targets: dict[str, Target] = {
                name: resolve(name, spec)
                for name, spec in experiment.template.get("targets", {}).items()}
            experiment.status, experiment.reason = "running", "Experiment is running."
            await self._state_changed(experiment, "initiating")
            if experiment.mode == "skip-all":
                outcome.state = "completed"
            else:
                if self._session is None:
                    self._session = aiohttp.ClientSession()
                effects = self._effects(self._session)
                # What a stand-in killed mid-experiment left changed is undone first.
                for left in sorted((self.state_dir / "run").glob("fis-*.json")):
                    if left.stem[4:] not in self.experiments:
                        await RollbackFile(left).undo(effects)
                rollback = RollbackFile(self.state_dir / "run" / f"fis-{experiment.id}.json")
                await execute(experiment.actions, targets, effects,
                              stop_check=self._stop_check(experiment), rollback=rollback,
                              poll_s=self._poll_s, outcome=outcome, local=experiment.local)
        except asyncio.CancelledError:
            outcome.state = "stopped"
        except Exception as exc:  # an experiment that cannot run ends failed, saying why
            outcome.state, outcome.reason = "failed", repr(exc)
        finally:
            ended = time.time()
            if experiment.stop_requested:
                status, reason = "stopped", "Experiment stopped by user."
            elif outcome.state == "completed":
                status, reason = "completed", "Experiment completed."
            else:
                status = outcome.state if outcome.state in TERMINAL else "failed"
                reason = outcome.reason or status
            undone = [e.detail for e in outcome.events if e.kind == "rolled back"]
            if undone and undone[-1] != "nothing left to undo":
                reason += f" Rolled back: {undone[-1]}."
            # The log is delivered before the end is visible: whoever sees the experiment
            # ended finds its log.
            failure = await self._write_log(replace(experiment, status=status, reason=reason,
                                                    ended=ended))
            before = experiment.status
            experiment.status, experiment.ended = status, ended
            experiment.reason = reason + (f" Log not delivered: {failure}." if failure else "")
            await self._state_changed(experiment, before)

    async def _state_changed(self, experiment: Experiment, old: str) -> None:
        """Send the "FIS Experiment State Change" event to EventBridge's default bus."""
        if self._events is None:
            return
        detail = {"experiment-id": experiment.id,
                  "experiment-template-id": experiment.template_id,
                  "new-state": {"status": experiment.status, "reason": experiment.reason},
                  "old-state": {"status": old}}
        entry = {"Source": "aws.fis", "DetailType": "FIS Experiment State Change",
                 "Resources": [experiment.arn], "Detail": json.dumps(detail)}
        try:
            await asyncio.to_thread(self._events.put_events, Entries=[entry])
        except Exception as exc:  # an event lost is said, never fatal to the experiment
            print(json.dumps({"message": "FIS event not sent", "error": repr(exc)}), flush=True)

    async def _write_log(self, experiment: Experiment) -> str | None:
        """Deliver the (ended) experiment's log to its template's destinations, S3 and
        CloudWatch Logs (a stream named after the experiment); return why it could not be
        delivered, or None."""
        config = experiment.template.get("logConfiguration") or {}
        records = log_records(experiment)
        failures = []
        where = config.get("s3Configuration")
        if where and self._s3 is not None:
            key = log_key(where.get("prefix", ""), region=self.region,
                          experiment_id=experiment.id, at=experiment.created)
            body = "".join(json.dumps(r) + "\n" for r in records)
            try:
                await asyncio.to_thread(self._s3.put_object, Bucket=where["bucketName"],
                                        Key=key, Body=body.encode(),
                                        ContentType="application/x-ndjson")
            except Exception as exc:  # FIS, too, ends the experiment whatever its log does
                failures.append(str(exc))
        group = (config.get("cloudWatchLogsConfiguration") or {}).get("logGroupArn")
        if group and self._logs is not None:
            try:
                await asyncio.to_thread(self._put_log_events, group, experiment.id, records)
            except Exception as exc:  # as above
                failures.append(str(exc))
        return "; ".join(failures) or None

    def _put_log_events(self, group_arn: str, stream: str,
                        records: list[dict[str, Any]]) -> None:
        group = group_arn.split(":log-group:", 1)[-1].removesuffix(":*")
        self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000)
        self._logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now, "message": json.dumps(r)} for r in records])

    async def close(self) -> None:
        """Stop every running experiment (each rolls back) and close the HTTP session."""
        running = [e.task for e in self.experiments.values()
                   if e.task is not None and not e.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


def application(fis: Fis) -> web.Application:
    """Return the aiohttp application answering FIS's operations for *fis*."""

    def answer(doc: dict[str, Any]) -> web.Response:
        return web.json_response(doc)

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            doc = await request.json() if request.can_read_body else {}
        except ValueError:
            raise invalid("the body is not JSON") from None
        if not isinstance(doc, dict):
            raise invalid("the body is not a JSON object")
        return doc

    async def create_template(request: web.Request) -> web.Response:
        return answer({"experimentTemplate": fis.create_template(await body(request))})

    async def list_templates(_: web.Request) -> web.Response:
        keys = ("id", "arn", "description", "creationTime", "lastUpdateTime", "tags")
        return answer({"experimentTemplates": [{k: t[k] for k in keys if k in t}
                                               for t in fis.templates.values()]})

    async def get_template(request: web.Request) -> web.Response:
        return answer({"experimentTemplate": fis.template(request.match_info["id"])})

    async def delete_template(request: web.Request) -> web.Response:
        return answer({"experimentTemplate": fis.delete_template(request.match_info["id"])})

    async def start(request: web.Request) -> web.Response:
        experiment = fis.start(await body(request))
        return answer({"experiment": experiment.describe()})

    async def list_experiments(_: web.Request) -> web.Response:
        return answer({"experiments": [e.describe(full=False)
                                       for e in fis.experiments.values()]})

    async def get_experiment(request: web.Request) -> web.Response:
        experiment = fis.experiment(request.match_info["id"])
        return answer({"experiment": experiment.describe()})

    async def stop(request: web.Request) -> web.Response:
        experiment = fis.stop(request.match_info["id"])
        return answer({"experiment": experiment.describe()})

    @web.middleware
    async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except FisError as exc:
            return web.json_response({"message": exc.message}, status=exc.status,
                                     headers={"x-amzn-ErrorType": exc.kind})

    async def closing(_: web.Application) -> None:
        await fis.close()

    app = web.Application(middlewares=[errors])
    app.router.add_post("/experimentTemplates", create_template)
    app.router.add_get("/experimentTemplates", list_templates)
    app.router.add_get("/experimentTemplates/{id}", get_template)
    app.router.add_delete("/experimentTemplates/{id}", delete_template)
    app.router.add_post("/experiments", start)
    app.router.add_get("/experiments", list_experiments)
    app.router.add_get("/experiments/{id}", get_experiment)
    app.router.add_delete("/experiments/{id}", stop)
    app.on_cleanup.append(closing)
    return app
