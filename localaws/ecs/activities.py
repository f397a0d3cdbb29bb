"""Application Auto Scaling's DescribeScalingActivities, answered from the local autoscaler's
log (<state_dir>/run/scaling.jsonl): moto keeps scalable targets and policies but records no
activity, so its endpoint routes this one operation to the ECS stand-in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TARGET_PREFIX = "AnyScaleFrontendService."
OPERATIONS = ("DescribeScalingActivities",)
DEFAULT_PAGE = 50
MAX_PAGE = 50


class ActivitiesError(ValueError):
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
        raise ActivitiesError("ServiceNamespace is required")
    if request.get("ResourceId") and not request.get("ScalableDimension"):
        raise ActivitiesError("ScalableDimension is required with ResourceId")
    size = int(request.get("MaxResults") or DEFAULT_PAGE)
    if not 1 <= size <= MAX_PAGE:
        raise ActivitiesError(f"MaxResults must be 1 to {MAX_PAGE}")
    wanted = [a for a in reversed(recorded(state_dir))
              if a["ServiceNamespace"] == request["ServiceNamespace"]
              and request.get("ResourceId") in (None, a["ResourceId"])
              and request.get("ScalableDimension") in (None, a["ScalableDimension"])]
    try:
        first = int(request.get("NextToken") or 0)
    except ValueError:
        raise ActivitiesError("invalid NextToken") from None
    page = wanted[first:first + size]
    answer: dict[str, Any] = {"ScalingActivities": page}
    if first + size < len(wanted):
        answer["NextToken"] = str(first + size)
    return answer
