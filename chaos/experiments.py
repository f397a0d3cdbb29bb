"""The experiments in chaos/experiments/: FIS templates plus Itinera's hypotheses, and checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chaos.catalog import Catalog, value_problem

EXPERIMENTS = Path(__file__).resolve().parent / "experiments"
# What a hypothesis may measure; the game-day runner computes each from the load run,
# CloudWatch's alarm history and `itinera check`.
METRICS = {
    "error_ratio": "5xx and transport errors / requests of the load run",
    "latency_p95_ms": "95th percentile response time of the load run, milliseconds",
    "request_max_s": "longest single request of the load run, seconds",
    "search_success_ratio": "search answers 200 / search requests",
    "checkout_completion_ratio": "accepted checkouts (202) that reached a terminal status",
    "time_to_confirmed_p95_s": "95th percentile from 202 to confirmed, seconds",
    "captures_per_booking_max": "most payment captures of one booking",
    "confirmations_per_booking_max": "most confirmations sent for one booking",
    "oversold": "seats and rooms sold beyond capacity",
    "stop_alarms_fired": "times a stop-condition alarm went into ALARM (CloudWatch alarm "
                         "history)",
}
PHASES = ("before", "during", "after")
TEMPLATE_KEYS = {"description", "targets", "actions", "stopConditions", "logConfiguration",
                 "experimentOptions", "experimentReportConfiguration", "tags"}
TARGET_KEYS = {"resourceType", "resourceArns", "resourceTags", "filters", "selectionMode",
               "parameters"}
ACTION_KEYS = {"actionId", "description", "parameters", "targets", "startAfter"}


@dataclass(frozen=True, kw_only=True)
class Hypothesis:
    """A bound on one steady-state metric in one phase of the game day, with its tolerance."""

    metric: str
    phase: str
    max: float | None = None
    min: float | None = None
    tolerance: float = 0.0
    after_fault_s: float = 0.0
    why: str = ""


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """One experiment: its FIS template (CreateExperimentTemplate's shape) and Itinera section."""

    name: str
    template: dict[str, Any]
    load: str
    duration_s: int
    hypotheses: tuple[Hypothesis, ...]
    local: dict[str, Any]
    schedule: str | None = None


def load_experiment(path: Path) -> Experiment:
    """Read one experiment file."""
    raw = yaml.safe_load(path.read_text())
    own = raw["itinera"]
    return Experiment(name=path.stem, template=raw["template"], load=own["load"],
                      duration_s=int(own["duration_s"]),
                      hypotheses=tuple(Hypothesis(**h) for h in own["hypotheses"]),
                      local=dict(own.get("local", {})), schedule=own.get("schedule"))


def load_experiments(folder: Path = EXPERIMENTS) -> list[Experiment]:
    """Read every experiment, sorted by name."""
    return [load_experiment(p) for p in sorted(folder.glob("*.yaml"))]


def _cycle(actions: dict[str, Any]) -> list[str] | None:
    """Return a startAfter cycle as a list of action names, or None."""
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> list[str] | None:
        if state.get(name) == 1:
            return [*path[path.index(name):], name]
        if state.get(name) == 2 or name not in actions:
            return None
        state[name] = 1
        for before in actions[name].get("startAfter", []):
            found = visit(before, [*path, name])
            if found:
                return found
        state[name] = 2
        return None

    for name in actions:
        found = visit(name, [])
        if found:
            return found
    return None


def _target_problems(name: str, target: dict[str, Any], catalog: Catalog) -> list[str]:
    problems = [f"target {name}: unknown key {k}" for k in sorted(set(target) - TARGET_KEYS)]
    kind = catalog.resource_types.get(target.get("resourceType", ""))
    if kind is None:
        return [*problems, f"target {name}: unknown resource type {target.get('resourceType')}"]
    for other in ("resourceTags", "filters"):
        if "resourceArns" in target and other in target:
            problems.append(f"target {name}: resourceArns and {other} exclude each other")
    if not any(k in target for k in ("resourceArns", "resourceTags", "parameters")):
        problems.append(f"target {name}: selects nothing (no resourceArns, tags or parameters)")
    if target.get("selectionMode", "ALL") != "ALL" and not str(
            target.get("selectionMode", "")).startswith(("COUNT(", "PERCENT(")):
        problems.append(f"target {name}: selectionMode {target['selectionMode']} unknown")
    for f in target.get("filters", []):
        if f.get("path") not in kind.filters:
            problems.append(f"target {name}: {kind.name} has no filter path {f.get('path')}")
    parameters = target.get("parameters", {})
    problems += [f"target {name}: {kind.name} takes no parameter {p}"
                 for p in parameters if p not in kind.parameters]
    problems += [f"target {name}: {kind.name} needs parameter {p}"
                 for p in kind.required_parameters if p not in parameters]
    return problems


def _action_problems(name: str, action: dict[str, Any], template: dict[str, Any],
                     catalog: Catalog) -> list[str]:
    problems = [f"action {name}: unknown key {k}" for k in sorted(set(action) - ACTION_KEYS)]
    known = catalog.actions.get(action.get("actionId", ""))
    if known is None:
        return [*problems, f"action {name}: unknown action id {action.get('actionId')}"]
    given = action.get("parameters", {})
    problems += [f"action {name}: {known.id} has no parameter {p}"
                 for p in given if p not in known.parameters]
    for parameter in known.parameters.values():
        if parameter.name in given:
            problem = value_problem(parameter, given[parameter.name])
            if problem:
                problems.append(f"action {name}: {problem}")
        elif parameter.required:
            problems.append(f"action {name}: {known.id} needs parameter {parameter.name}")
    targets = action.get("targets", {})
    if known.target is None:
        problems += [f"action {name}: {known.id} takes no target" for _ in targets]
    else:
        key = catalog.resource_types[known.target].key
        if set(targets) != {key}:
            problems.append(f"action {name}: {known.id} names its target as {key}")
        for target_name in targets.values():
            target = template.get("targets", {}).get(target_name)
            if target is None:
                problems.append(f"action {name}: no target {target_name}")
            elif target.get("resourceType") != known.target:
                problems.append(f"action {name}: target {target_name} is "
                                f"{target.get('resourceType')}, {known.id} needs {known.target}")
    problems += [f"action {name}: startAfter names no action {before}"
                 for before in action.get("startAfter", []) if before not in template["actions"]]
    return problems


def problems(experiment: Experiment, catalog: Catalog, scenarios: set[str]) -> list[str]:
    """Return everything wrong with *experiment* against FIS's catalog; empty when valid."""
    template = experiment.template
    found = [f"unknown template key {k}" for k in sorted(set(template) - TEMPLATE_KEYS)]
    if not template.get("description"):
        found.append("a template needs a description")
    if not template.get("actions"):
        found.append("a template needs at least one action")
    for name, target in template.get("targets", {}).items():
        found += _target_problems(name, target, catalog)
    for name, action in template.get("actions", {}).items():
        found += _action_problems(name, action, template, catalog)
    used = {t for a in template.get("actions", {}).values() for t in a.get("targets", {}).values()}
    found += [f"target {t} is used by no action" for t in template.get("targets", {})
              if t not in used]
    cycle = _cycle(template.get("actions", {}))
    if cycle:
        found.append("startAfter cycle: " + " -> ".join(cycle))
    for condition in template.get("stopConditions", []):
        if condition.get("source") not in ("aws:cloudwatch:alarm", "none"):
            found.append(f"stop condition source {condition.get('source')} unknown")
    if experiment.load not in scenarios:
        found.append(f"load scenario {experiment.load} is not in loadtests/scenarios.py")
    for h in experiment.hypotheses:
        if h.metric not in METRICS:
            found.append(f"hypothesis on unknown metric {h.metric}")
        if h.phase not in PHASES:
            found.append(f"hypothesis {h.metric}: phase {h.phase} not one of {PHASES}")
        if (h.max is None) == (h.min is None):
            found.append(f"hypothesis {h.metric}: give exactly one of max and min")
    return found


def alarm_names(experiment: Experiment) -> list[str]:
    """Return the alarm names (without the itinera-${Stage}- prefix) the stop conditions name."""
    prefix = ":alarm:itinera-${Stage}-"
    names = []
    for condition in experiment.template.get("stopConditions", []):
        value = condition.get("value", "")
        if condition.get("source") == "aws:cloudwatch:alarm":
            names.append(value.split(prefix, 1)[1] if prefix in value else value)
    return names
