"""A game day's experiment through FIS's API: the same calls on AWS and on the local stack.

Locally, moto's endpoint routes FIS to the stand-in (localaws/fis/service.py), which carries
the actions out on the stack; on AWS, FIS does. Either way the runner finds the deployed
template, makes the run's copy of it (aimed at the run's AZ), starts it, follows its state,
stops it if the runner is stopped, reads what happened from the experiment's action states,
and deletes the copy.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from localaws.fis.executor import Event, Outcome
from localaws.fis.service import LOCAL_TAG, TERMINAL


def find_template(fis: Any, name: str) -> str:
    """Return the id of the deployed experiment template whose Name tag is *name*."""
    for page in fis.get_paginator("list_experiment_templates").paginate():
        for template in page["experimentTemplates"]:
            if template.get("tags", {}).get("Name") == name:
                return str(template["id"])
    raise SystemExit(f"no FIS experiment template tagged Name={name}: is the stage's chaos "
                     f"stack deployed (infra/sam/chaos.yaml)?")


def in_az(targets: dict[str, Any], az: str) -> dict[str, Any]:
    """Return the template's *targets* aimed at *az*: every AvailabilityZone filter and
    availabilityZoneIdentifier parameter (where the template puts its TargetAz)."""
    aimed = {}
    for name, target in targets.items():
        copy = dict(target)
        if "filters" in copy:
            copy["filters"] = [{**f, "values": [az]} if f.get("path") == "AvailabilityZone"
                               else f for f in copy["filters"]]
        if "availabilityZoneIdentifier" in copy.get("parameters", {}):
            copy["parameters"] = {**copy["parameters"], "availabilityZoneIdentifier": az}
        aimed[name] = copy
    return aimed


# What CreateExperimentTemplate takes of what GetExperimentTemplate gives.
_COPIED = ("description", "roleArn", "actions", "stopConditions", "logConfiguration",
           "experimentOptions", "experimentReportConfiguration")
_TARGET_KEYS = ("resourceType", "resourceArns", "resourceTags", "filters", "selectionMode",
                "parameters")
_ACTION_KEYS = ("actionId", "description", "parameters", "targets", "startAfter")


def run_template(fis: Any, template_id: str, *, name: str, target_az: str | None,
                 local: dict[str, Any]) -> str:
    """Create this run's copy of the deployed template (the same actions, stop conditions,
    role and logs; its targets aimed at *target_az* when given; the experiment's local
    overrides in the `itinera:local` tag, which AWS ignores); return the copy's id."""
    deployed = fis.get_experiment_template(id=template_id)["experimentTemplate"]
    request: dict[str, Any] = {k: deployed[k] for k in _COPIED if deployed.get(k)}
    request["actions"] = {n: {k: a[k] for k in _ACTION_KEYS if a.get(k)}
                          for n, a in deployed["actions"].items()}
    targets = {n: {k: t[k] for k in _TARGET_KEYS if t.get(k)}
               for n, t in deployed.get("targets", {}).items()}
    request["targets"] = in_az(targets, target_az) if target_az else targets
    options = request.get("experimentOptions", {})
    # Set by FIS on the deployed one; not a field a new template may set.
    options.pop("actionsMode", None)
    tags = {**deployed.get("tags", {}), "Name": name, "itinera:copy-of": template_id}
    if local:
        tags[LOCAL_TAG] = json.dumps(local, separators=(",", ":"))
    created = fis.create_experiment_template(clientToken=name, tags=tags, **request)
    return str(created["experimentTemplate"]["id"])


async def follow(fis: Any, template_id: str, *, name: str, poll_s: float = 1.0,
                 on_state: Callable[[str, dict[str, Any]], None] | None = None
                 ) -> dict[str, Any]:
    """Start the experiment and poll it until it ends (FIS has no push for its states),
    telling *on_state* of each new state; if this task is cancelled (Ctrl-C, SIGTERM), stop
    the experiment first. Return it."""
    started = await asyncio.to_thread(fis.start_experiment, experimentTemplateId=template_id,
                                      clientToken=name, tags={"Name": name})
    experiment_id, last = started["experiment"]["id"], ""
    try:
        while True:
            found = (await asyncio.to_thread(fis.get_experiment, id=experiment_id))["experiment"]
            status = found["state"]["status"]
            if status != last and on_state is not None:
                on_state(experiment_id, found["state"])
            last = status
            if status in TERMINAL:
                return dict(found)
            await asyncio.sleep(poll_s)
    except asyncio.CancelledError:
        await asyncio.to_thread(fis.stop_experiment, id=experiment_id)
        raise


def _at(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def outcome_of(experiment: dict[str, Any]) -> Outcome:
    """Return the experiment as the report's timeline: each action's start, what it did (the
    words after FIS's own in its state's reason), its end, the stop and the rollback."""
    state = experiment["state"]
    outcome = Outcome(state=str(state["status"]), reason=str(state.get("reason", "")))
    for name, action in experiment.get("actions", {}).items():
        status, reason = action["state"]["status"], str(action["state"].get("reason", ""))
        if "startTime" not in action:
            continue
        start = _at(action["startTime"])
        outcome.events.append(Event(start, "start", name, str(action.get("actionId", ""))))
        did = reason.split(".", 1)[1].strip() if "." in reason else ""
        if did:
            outcome.events.append(Event(start, "applied", name, did))
        if "endTime" in action:
            kind = {"completed": "end", "failed": "failed"}.get(status, "stopped")
            outcome.events.append(Event(_at(action["endTime"]), kind, name,
                                        reason if kind == "failed" else ""))
    if "endTime" in experiment:
        end = _at(experiment["endTime"])
        if "stop condition" in outcome.reason:
            outcome.events.append(Event(end, "stop condition", outcome.reason, "ALARM"))
        undone = outcome.reason.split("Rolled back:", 1)
        outcome.events.append(Event(end, "rolled back", "all", undone[1].strip(" .")
                                    if len(undone) == 2 else "nothing left to undo"))
    return outcome


def abort(fis: Any) -> list[str]:
    """Stop every experiment FIS is still running (`itinera gameday abort`); FIS rolls each
    back. Return the ids stopped."""
    stopped = []
    for page in fis.get_paginator("list_experiments").paginate():
        for experiment in page["experiments"]:
            if experiment["state"]["status"] in ("pending", "initiating", "running"):
                fis.stop_experiment(id=experiment["id"])
                stopped.append(str(experiment["id"]))
    return stopped
