"""The stage's alarm transitions over a game day, from CloudWatch's alarm history: the
report's timeline, and the stop-condition alarms' hypothesis."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def alarm_transitions(cloudwatch: Any, start: float, end: float, *,
                      prefix: str) -> list[dict[str, Any]]:
    """Return the state changes of the stage's alarms (names starting with *prefix*)
    between *start* and *end*, oldest first, from CloudWatch's DescribeAlarmHistory."""
    found = []
    pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
        HistoryItemType="StateUpdate", StartDate=datetime.fromtimestamp(start, UTC),
        EndDate=datetime.fromtimestamp(end, UTC))
    for page in pages:
        for item in page["AlarmHistoryItems"]:
            if not item["AlarmName"].startswith(prefix):
                continue
            data = json.loads(item.get("HistoryData") or "{}")
            found.append({"alarm": item["AlarmName"], "at": item["Timestamp"].timestamp(),
                          "old": data.get("oldState", {}).get("stateValue"),
                          "new": data.get("newState", {}).get("stateValue"),
                          "reason": data.get("newState", {}).get("stateReason", "")})
    return sorted(found, key=lambda t: t["at"])
