"""FIS's action catalog (chaos/actions.yaml) and the checks of an experiment template against it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localaws.fis.plan import duration_seconds

CATALOG = Path(__file__).resolve().parent / "actions.yaml"
# FIS takes durations as ISO 8601 strings; experiments use the time part only (PT1M, PT1H30M).
SUB = re.compile(r"\$\{[^}]+\}")


@dataclass(frozen=True, kw_only=True)
class Parameter:
    """One parameter of an action: whether it is required and what format its value has."""

    name: str
    required: bool
    format: str
    values: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    min_seconds: int | None = None
    max_seconds: int | None = None


@dataclass(frozen=True, kw_only=True)
class Action:
    """One FIS action: its target resource type, parameters and what the target needs."""

    id: str
    target: str | None
    parameters: dict[str, Parameter]
    needs: tuple[str, ...] = ()
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ResourceType:
    """One FIS target resource type: the key actions name it by and what a target may carry."""

    name: str
    key: str
    filters: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    required_parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalog:
    """The actions and resource types FIS knows, as chaos/actions.yaml lists them."""

    actions: dict[str, Action]
    resource_types: dict[str, ResourceType] = field(default_factory=dict)


def _parameter(name: str, spec: dict[str, Any]) -> Parameter:
    return Parameter(name=name, required=bool(spec["required"]), format=spec["format"],
                     values=tuple(spec.get("values", ())), minimum=spec.get("min"),
                     maximum=spec.get("max"), min_seconds=spec.get("min_seconds"),
                     max_seconds=spec.get("max_seconds"))


def load_catalog(path: Path = CATALOG) -> Catalog:
    """Read chaos/actions.yaml."""
    raw = yaml.safe_load(path.read_text())
    actions = {
        action_id: Action(
            id=action_id, target=spec["target"],
            parameters={n: _parameter(n, p) for n, p in (spec.get("parameters") or {}).items()},
            needs=tuple(spec.get("needs", ())), permissions=tuple(spec.get("permissions", ())))
        for action_id, spec in raw["actions"].items()}
    types = {name: ResourceType(name=name, key=spec["key"], filters=tuple(spec["filters"]),
                                parameters=tuple(spec["parameters"]),
                                required_parameters=tuple(spec.get("required_parameters", ())))
             for name, spec in raw["resource_types"].items()}
    return Catalog(actions=actions, resource_types=types)


def value_problem(parameter: Parameter, value: object) -> str | None:
    """Return why *value* is not well-formed for *parameter*, or None when it is."""
    if not isinstance(value, str):
        return f"{parameter.name}: FIS parameters are strings, got {value!r}"
    if SUB.search(value):
        # A CloudFormation substitution is only known at deploy time.
        return None
    if parameter.format == "duration":
        seconds = duration_seconds(value)
        if seconds is None:
            return f"{parameter.name}: {value!r} is not an ISO 8601 duration such as PT1M"
        if parameter.min_seconds is not None and seconds < parameter.min_seconds:
            return f"{parameter.name}: {value} is shorter than {parameter.min_seconds} s"
        if parameter.max_seconds is not None and seconds > parameter.max_seconds:
            return f"{parameter.name}: {value} is longer than {parameter.max_seconds} s"
        return None
    if parameter.format == "boolean":
        return None if value in ("true", "false") else f"{parameter.name}: {value!r} not a boolean"
    if parameter.format == "enum":
        return None if value in parameter.values else \
            f"{parameter.name}: {value!r} not one of {', '.join(parameter.values)}"
    if parameter.format in ("integer", "percent"):
        if not value.isdigit():
            return f"{parameter.name}: {value!r} is not a whole number"
        low, high = (1, 100) if parameter.format == "percent" else \
            (parameter.minimum, parameter.maximum)
        if (low is not None and int(value) < low) or (high is not None and int(value) > high):
            return f"{parameter.name}: {value} outside {low}..{high}"
    return None
