"""A game day's experiment through FIS's API: the same calls on AWS and on the local stack.

Locally, moto's endpoint routes FIS to the stand-in (localaws/fis/service.py), which carries
the actions out on the stack; on AWS, FIS does. Either way the runner creates the template,
starts it, follows its state, stops it if the runner is stopped, and reads what happened
from the experiment's action states.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from localaws.fis.executor import Event, Outcome
from localaws.fis.service import LOCAL_TAG, TERMINAL


def create_template(fis: Any, template: dict[str, Any], *, name: str, role_arn: str,
                    local: dict[str, Any]) -> str:
    """Create the experiment template (the chaos experiment, substituted); return its id."""
    tags = {**template.get("tags", {}), "Name": name}
    if local:
        tags[LOCAL_TAG] = json.dumps(local, separators=(",", ":"))
    optional = {key: template[key] for key in ("logConfiguration", "experimentOptions")
                if key in template}
    created = fis.create_experiment_template(
        clientToken=name, description=template["description"], roleArn=role_arn,
        targets=template.get("targets", {}), actions=template["actions"],
        stopConditions=template.get("stopConditions") or [{"source": "none"}], tags=tags,
        **optional)
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
