"""Application Auto Scaling for the local stack's ECS services, answered by the ECS stand-in
(moto's endpoint routes these operations here; moto keeps the rest):

- DescribeScalingActivities, from the local autoscaler's log (<state_dir>/run/scaling.jsonl);
- RegisterScalableTarget and DescribeScalableTargets, over <state_dir>/run/scalable-targets.json,
  which the stack writes from the template as it starts and the autoscaler reads each period:
  a new MinCapacity or MaxCapacity, or a SuspendedState (DynamicScalingOutSuspended,
  DynamicScalingInSuspended), takes effect at the next period, as on AWS. moto's own
  RegisterScalableTarget refuses these services: they are not in its ECS.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

TARGET_PREFIX = "AnyScaleFrontendService."
OPERATIONS = ("DescribeScalingActivities", "RegisterScalableTarget", "DescribeScalableTargets")
DIMENSION = "ecs:service:DesiredCount"
SUSPENSIONS = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended",
               "ScheduledScalingSuspended")
_lock = threading.Lock()
DEFAULT_PAGE = 50
MAX_PAGE = 50


class ScalingApiError(ValueError):
    """A request Application Auto Scaling would refuse (a ValidationException)."""


def recorded(state_dir: Path) -> list[dict[str, Any]]:
    """Return every scaling activity the autoscaler logged, oldest first."""
    path = state_dir / "run" / "scaling.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line still being written
        if isinstance(entry, dict) and isinstance(entry.get("activity"), dict):
            out.append(entry["activity"])
    return out


def describe(state_dir: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Answer DescribeScalingActivities: newest first, filtered by ResourceId and
    ScalableDimension, in pages of MaxResults with a NextToken."""
    if request.get("ServiceNamespace") is None:
        raise ScalingApiError("ServiceNamespace is required")
    if request.get("ScalableDimension") and not request.get("ResourceId"):
        raise ScalingApiError("a ScalableDimension needs a ResourceId")
    size = int(request.get("MaxResults") or DEFAULT_PAGE)
    if not 1 <= size <= MAX_PAGE:
        raise ScalingApiError(f"MaxResults must be 1 to {MAX_PAGE}")
    wanted = [a for a in reversed(recorded(state_dir))
              if a["ServiceNamespace"] == request["ServiceNamespace"]
              and request.get("ResourceId") in (None, a["ResourceId"])
              and request.get("ScalableDimension") in (None, a["ScalableDimension"])]
    # The token is the last activity given: newer ones appended meanwhile do not shift the
    # pages after it.
    token = request.get("NextToken")
    first = 0
    if token:
        ids = [a["ActivityId"] for a in wanted]
        if token not in ids:
            raise ScalingApiError("invalid NextToken")
        first = ids.index(token) + 1
    page = wanted[first:first + size]
    answer: dict[str, Any] = {"ScalingActivities": page}
    if first + size < len(wanted):
        answer["NextToken"] = page[-1]["ActivityId"]
    return answer


def targets_path(state_dir: Path) -> Path:
    """Return the file the scalable targets are kept in."""
    return state_dir / "run" / "scalable-targets.json"


def scalable_target(cluster: str, service: str, *, low: int, high: int) -> dict[str, Any]:
    """Return a service's scalable target as DescribeScalableTargets shows it."""
    return {"ServiceNamespace": "ecs", "ResourceId": f"service/{cluster}/{service}",
            "ScalableDimension": DIMENSION, "MinCapacity": low, "MaxCapacity": high,
            "CreationTime": time.time(), "SuspendedState": dict.fromkeys(SUSPENSIONS, False)}


def write_targets(state_dir: Path, targets: list[dict[str, Any]]) -> None:
    """Replace the scalable targets (the stack, as it starts; RegisterScalableTarget)."""
    path = targets_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(targets, indent=1))
    os.replace(temporary, path)


def read_targets(state_dir: Path) -> list[dict[str, Any]]:
    """Return the scalable targets (none before the stack wrote them)."""
    path = targets_path(state_dir)
    if not path.exists():
        return []
    return list(json.loads(path.read_text()))


def register(state_dir: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Answer RegisterScalableTarget: update a service's bounds or suspended state (what the
    request leaves out stays as it was)."""
    if request.get("ServiceNamespace") != "ecs" or request.get("ScalableDimension") != DIMENSION:
        raise ScalingApiError("locally, only ECS services' DesiredCount is scalable")
    with _lock:
        targets = read_targets(state_dir)
        target = next((t for t in targets if t["ResourceId"] == request.get("ResourceId")),
                      None)
        if target is None:
            raise ScalingApiError(f"{request.get('ResourceId')}: no such ECS service in the "
                                  f"local stack")
        for key in ("MinCapacity", "MaxCapacity"):
            if key in request:
                target[key] = int(request[key])
        if target["MinCapacity"] > target["MaxCapacity"]:
            raise ScalingApiError("MinCapacity must not exceed MaxCapacity")
        for key, value in (request.get("SuspendedState") or {}).items():
            if key not in SUSPENSIONS:
                raise ScalingApiError(f"SuspendedState: unknown {key}")
            target["SuspendedState"][key] = bool(value)
        write_targets(state_dir, targets)
    return {"ScalableTargetARN": f"arn:aws:application-autoscaling:local:000000000000:"
                                 f"scalable-target/{target['ResourceId']}"}


def describe_targets(state_dir: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Answer DescribeScalableTargets, filtered by ResourceIds and ScalableDimension."""
    if request.get("ServiceNamespace") is None:
        raise ScalingApiError("ServiceNamespace is required")
    ids = request.get("ResourceIds") or None
    found = [t for t in read_targets(state_dir)
             if t["ServiceNamespace"] == request["ServiceNamespace"]
             and (ids is None or t["ResourceId"] in ids)
             and request.get("ScalableDimension") in (None, t["ScalableDimension"])]
    return {"ScalableTargets": found}


def answer(state_dir: Path, operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """Answer one of OPERATIONS."""
    if operation == "RegisterScalableTarget":
        return register(state_dir, request)
    if operation == "DescribeScalableTargets":
        return describe_targets(state_dir, request)
    return describe(state_dir, request)
