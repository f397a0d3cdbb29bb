"""What CloudWatch sends an alarm's SNS actions, and the local transition history."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from localaws.resources import ACCOUNT_ID

REGION_NAMES = {"eu-west-1": "EU (Ireland)", "us-east-1": "US East (N. Virginia)",
                "eu-central-1": "EU (Frankfurt)", "us-west-2": "US West (Oregon)"}
ACTIONS = {"ALARM": "AlarmActions", "OK": "OKActions",
           "INSUFFICIENT_DATA": "InsufficientDataActions"}


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def notification(alarm: dict[str, Any], *, old: str, new: str, reason: str, when: datetime,
                 region: str, rule: str | None = None,
                 triggering: list[str] | None = None) -> tuple[str, dict[str, Any]]:
    """Return the subject and JSON body CloudWatch publishes when *alarm* changes state."""
    region_name = REGION_NAMES.get(region, region)
    body: dict[str, Any] = {
        "AlarmName": alarm["AlarmName"], "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": ACCOUNT_ID, "NewStateValue": new, "NewStateReason": reason,
        "StateChangeTime": _stamp(when), "Region": region_name,
        "AlarmArn": alarm.get("AlarmArn", f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:"
                                          f"{alarm['AlarmName']}"),
        "OldStateValue": old, "OKActions": alarm.get("OKActions", []),
        "AlarmActions": alarm.get("AlarmActions", []),
        "InsufficientDataActions": alarm.get("InsufficientDataActions", [])}
    if rule is not None:
        body["AlarmRule"] = rule
        body["TriggeringChildren"] = [
            {"Arn": f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{name}",
             "State": {"Value": "ALARM"}} for name in triggering or []]
    else:
        body["Trigger"] = _trigger(alarm)
    return f'{new}: "{alarm["AlarmName"]}" in {region_name}'[:100], body


def _trigger(alarm: dict[str, Any]) -> dict[str, Any]:
    trigger: dict[str, Any] = {
        "Period": alarm.get("Period"), "EvaluationPeriods": alarm["EvaluationPeriods"],
        "DatapointsToAlarm": alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"],
        "ComparisonOperator": alarm["ComparisonOperator"], "Threshold": alarm["Threshold"],
        "TreatMissingData": alarm.get("TreatMissingData") or "missing",
        "EvaluateLowSampleCountPercentile": ""}
    if alarm.get("Metrics"):
        trigger["Metrics"] = alarm["Metrics"]
        return trigger
    extended = alarm.get("ExtendedStatistic")
    trigger.update({
        "MetricName": alarm.get("MetricName"), "Namespace": alarm.get("Namespace"),
        "StatisticType": "ExtendedStatistic" if extended else "Statistic",
        "Statistic": extended or str(alarm.get("Statistic", "")).upper(),
        "Unit": alarm.get("Unit"),
        "Dimensions": [{"value": d["Value"], "name": d["Name"]}
                       for d in alarm.get("Dimensions", [])]})
    return trigger


def publish(sns: Any, alarm: dict[str, Any], new: str, subject: str,
            body: dict[str, Any]) -> list[str]:
    """Publish to each SNS topic among the actions for *new*; return the topics."""
    if not alarm.get("ActionsEnabled", True):
        return []
    topics = [arn for arn in alarm.get(ACTIONS[new], []) if arn.startswith("arn:aws:sns:")]
    for topic in topics:
        sns.publish(TopicArn=topic, Subject=subject, Message=json.dumps(body))
    return topics


def append_history(path: Path, *, alarm: str, old: str | None, new: str, when: datetime,
                   reason: str) -> None:
    """Append one transition to <state_dir>/run/alarm-history.jsonl for reports."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps({"alarm": alarm, "old": old, "new": new,
                              "time": when.isoformat(timespec="milliseconds"),
                              "reason": reason}) + "\n")
