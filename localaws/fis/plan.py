"""An experiment template's actions as a local plan: substitutions, durations, startAfter.

The template is FIS's own shape (`actions`, each with `actionId`, `parameters`, `targets`,
`startAfter`), as the API and CloudFormation carry it; `local` holds the experiment's local
overrides (`action_scale`, `failover_s`; chaos/experiments carry them as `itinera.local`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_SUB = re.compile(r"\$\{([^}]+)\}")
DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def duration_seconds(text: str) -> int | None:
    """Return the seconds of an ISO 8601 duration such as PT1M30S, or None when malformed."""
    match = DURATION.match(text)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def iso_seconds(value: str) -> float:
    """Return the seconds of an FIS duration (PT2M), or raise ValueError."""
    seconds = duration_seconds(value)
    if seconds is None:
        raise ValueError(f"not an FIS duration: {value!r}")
    return float(seconds)


def substitute(value: Any, names: dict[str, str]) -> Any:
    """Return *value* with every `${Name}` the template uses replaced from *names*."""
    if isinstance(value, str):
        return _SUB.sub(lambda m: names.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
    return value


@dataclass(frozen=True, kw_only=True)
class PlannedAction:
    """One action of the experiment with its local duration (seconds) and predecessors."""

    name: str
    action_id: str
    parameters: dict[str, Any]
    targets: dict[str, str]
    start_after: tuple[str, ...] = ()
    aws_duration_s: float = 0.0
    local_duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def local_duration(aws_seconds: float, *, scale: float, floor_s: float = 2.0) -> float:
    """Return how long an action of *aws_seconds* lasts locally: scaled, never below a floor."""
    if aws_seconds <= 0:
        return 0.0
    return max(floor_s, aws_seconds * scale)


def plan(template: Mapping[str, Any], *, scale: float,
         local: Mapping[str, Any] | None = None) -> list[PlannedAction]:
    """Return the template's actions with local durations, in the template's order.

    `action_scale` in *local* overrides *scale*; an Aurora failover refuses connections for
    `failover_s` local seconds (AWS gives no duration).
    """
    local = local or {}
    scale = float(local.get("action_scale", scale))
    planned = []
    for name, action in template["actions"].items():
        params = dict(action.get("parameters", {}))
        aws_s = iso_seconds(params["duration"]) if "duration" in params else 0.0
        local_s = local_duration(aws_s, scale=scale)
        if action["actionId"] == "aws:rds:failover-db-cluster":
            # Already local seconds: how long connections are refused on the laptop.
            local_s = float(local.get("failover_s", 20 * scale))
        planned.append(PlannedAction(
            name=name, action_id=action["actionId"], parameters=params,
            targets=dict(action.get("targets", {})),
            start_after=tuple(action.get("startAfter", [])), aws_duration_s=aws_s,
            local_duration_s=local_s))
    return planned


def waves(actions: list[PlannedAction]) -> list[list[str]]:
    """Return the actions grouped by how many startAfter links precede them (for the report)."""
    depth: dict[str, int] = {}
    by_name = {a.name: a for a in actions}

    def level(name: str) -> int:
        if name not in depth:
            depth[name] = 1 + max((level(b) for b in by_name[name].start_after), default=-1)
        return depth[name]

    out: dict[int, list[str]] = {}
    for a in actions:
        out.setdefault(level(a.name), []).append(a.name)
    return [out[k] for k in sorted(out)]


def span(actions: list[PlannedAction]) -> float:
    """Return the local seconds from the first action's start to the last one's end."""
    by_name = {a.name: a for a in actions}
    ends: dict[str, float] = {}

    def end(name: str) -> float:
        if name not in ends:
            action = by_name[name]
            ends[name] = max((end(b) for b in action.start_after), default=0.0) \
                + action.local_duration_s
        return ends[name]

    return max((end(a.name) for a in actions), default=0.0)
