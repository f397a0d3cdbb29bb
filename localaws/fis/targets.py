"""Resolving an experiment's targets against the running local stack (its record)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localaws.config import AZS
from localaws.record import TaskRecord


@dataclass(frozen=True, kw_only=True)
class Target:
    """What one FIS target selects locally: AZs, a service's tasks, or Lambda functions."""

    name: str
    resource_type: str
    azs: tuple[str, ...] = AZS
    service: str | None = None
    functions: tuple[str, ...] = ()


def _filter_values(target: dict[str, Any], path: str) -> list[str]:
    return [str(v) for f in target.get("filters", []) if f.get("path") == path
            for v in f.get("values", [])]


def resolve(name: str, target: dict[str, Any]) -> Target:
    """Return the local selection of one (substituted) template target."""
    kind = str(target["resourceType"])
    azs = tuple(_filter_values(target, "AvailabilityZone")) or AZS
    parameters = target.get("parameters", {})
    if kind == "aws:elasticache:replicationgroup" and "availabilityZoneIdentifier" in parameters:
        azs = (str(parameters["availabilityZoneIdentifier"]),)
    unknown = [az for az in azs if az not in AZS]
    if unknown:
        raise ValueError(f"target {name}: no local AZ {', '.join(unknown)} (local: {AZS})")
    if kind == "aws:lambda:function":
        # A function's ARN ends with its name; locally Ref gives the logical id.
        functions = tuple(str(arn).rsplit(":", 1)[-1] for arn in target.get("resourceArns", []))
        return Target(name=name, resource_type=kind, functions=functions)
    service = parameters.get("service") if kind == "aws:ecs:task" else None
    return Target(name=name, resource_type=kind, azs=azs, service=service)


def running_tasks(tasks: Mapping[str, TaskRecord], target: Target) -> list[tuple[str, int]]:
    """Return (name, pid) of the target's running tasks among the stack record's *tasks*."""
    found = []
    for name, task in tasks.items():
        if task.az not in target.azs or task.state != "RUNNING":
            continue
        if target.service is not None and task.service_of(name) != target.service:
            continue
        found.append((name, task.pid))
    return sorted(found)
