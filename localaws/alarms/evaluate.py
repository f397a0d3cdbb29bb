"""Evaluate a CloudWatch metric alarm over its recent periods, as CloudWatch does.

The alarm is the DescribeAlarms/PutMetricAlarm dict. Its value each period comes from a
MetricReader (one metric, or the ReturnData expression of its Metrics). The N most recent
complete periods (EvaluationPeriods) are compared with the threshold; M of them
(DatapointsToAlarm, default N) breaching means ALARM. Missing periods follow
TreatMissingData as CloudWatch's table has it: `breaching`/`notBreaching` count them as
such; with `missing` an all-missing range is INSUFFICIENT_DATA and with `ignore` it keeps
the current state; when fewer than M points exist and all of them breach, `missing` goes to
ALARM and `ignore` keeps the state; otherwise the points that exist decide.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from localaws.alarms.expression import Series, evaluate

COMPARISONS = {
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


class MetricReader(Protocol):
    """The shared contract (cloudwatch/reader.py): GetMetricData queries -> points per Id."""

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime,
                        end: datetime) -> dict[str, list[tuple[datetime, float]]]: ...


@dataclass(frozen=True)
class Evaluation:
    """A metric alarm's new state, the reason CloudWatch would give, and its data."""

    state: str
    reason: str
    reason_data: dict[str, Any] = field(default_factory=dict)

    def reason_json(self) -> str:
        """Return StateReasonData as SetAlarmState takes it."""
        return json.dumps(self.reason_data)


def period_of(alarm: Mapping[str, Any]) -> int:
    """Return the alarm's period: its own, or its returned query's (metric-math alarms)."""
    if alarm.get("Period"):
        return int(alarm["Period"])
    periods = [q.get("Period") or q.get("MetricStat", {}).get("Period")
               for q in alarm.get("Metrics", [])]
    return int(next(p for p in periods if p))


def statistic_of(alarm: Mapping[str, Any]) -> str:
    """Return Statistic or ExtendedStatistic (p99 ...)."""
    return str(alarm.get("ExtendedStatistic") or alarm.get("Statistic") or "")


def window(alarm: Mapping[str, Any], now: datetime) -> list[datetime]:
    """Return the starts of the N most recent complete periods before *now*, oldest first."""
    period = period_of(alarm)
    epoch = int(now.timestamp()) // period * period
    count = int(alarm["EvaluationPeriods"])
    return [datetime.fromtimestamp(epoch - period * (count - i), UTC) for i in range(count)]


def queries_of(alarm: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the GetMetricData queries that feed the alarm."""
    if alarm.get("Metrics"):
        # Every input is asked for: readers answer only the queries that return data.
        return [{**q, "ReturnData": True} for q in alarm["Metrics"] if "MetricStat" in q]
    return [{"Id": "m1", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                   "Dimensions": list(alarm.get("Dimensions", []))},
        "Period": period_of(alarm), "Stat": statistic_of(alarm)}}]


def alarm_series(alarm: Mapping[str, Any], reader: MetricReader, now: datetime) -> Series:
    """Return the alarm's value per period start over its evaluation range."""
    starts = window(alarm, now)
    period = timedelta(seconds=period_of(alarm))
    queries = queries_of(alarm)
    data = reader.get_metric_data(queries, starts[0], starts[-1] + period)
    values: dict[str, Series | float] = {
        q["Id"]: {_floor(t, period): v for t, v in data.get(q["Id"], [])} for q in queries}
    returned = [q for q in alarm.get("Metrics", []) if q.get("ReturnData", True)]
    if not alarm.get("Metrics") or "Expression" not in returned[0]:
        chosen = returned[0]["Id"] if alarm.get("Metrics") else "m1"
        result = values[chosen]
    else:
        result = evaluate(returned[0]["Expression"], values, starts)
    if not isinstance(result, dict):
        return dict.fromkeys(starts, result)
    return {t: v for t, v in result.items() if t in starts}


def _floor(stamp: datetime, period: timedelta) -> datetime:
    seconds = int(period.total_seconds())
    epoch = int(stamp.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def evaluate_metric_alarm(alarm: Mapping[str, Any], series: Mapping[datetime, float], *,
                          now: datetime, current: str) -> Evaluation:
    """Return the state the alarm should be in, given its value per period start."""
    operator = alarm["ComparisonOperator"]
    if operator not in COMPARISONS:
        raise ValueError(f"{operator} (an anomaly-detection band) is not evaluated locally")
    breaches, words = COMPARISONS[operator]
    threshold = float(alarm["Threshold"])
    n = int(alarm["EvaluationPeriods"])
    m = int(alarm.get("DatapointsToAlarm") or n)
    treatment = alarm.get("TreatMissingData") or "missing"
    starts = window(alarm, now)
    points = [(t, series.get(t)) for t in starts]
    present = [(t, v) for t, v in points if v is not None]
    breaching = [(t, v) for t, v in present if breaches(v, threshold)]
    data = _reason_data(alarm, present, now)
    shown = "[" + ", ".join(f"{v:g} ({t:%d/%m/%y %H:%M:%S})" for t, v in reversed(present)) + "]"
    if treatment in ("breaching", "notBreaching"):
        missing = len(points) - len(present)
        count = len(breaching) + (missing if treatment == "breaching" else 0)
        state = "ALARM" if count >= m else "OK"
        return Evaluation(state, _threshold_reason(count, n, shown, words, threshold, m,
                                                   missing, treatment), data)
    if not present:
        if treatment == "ignore":
            return Evaluation(current, "no datapoints; missing data is ignored", data)
        return Evaluation("INSUFFICIENT_DATA", f"Insufficient Data: {n} datapoint"
                          f"{'s were' if n > 1 else ' was'} unknown.", data)
    if len(breaching) >= m:
        return Evaluation("ALARM", _threshold_reason(len(breaching), n, shown, words,
                                                     threshold, m, 0, treatment), data)
    if len(present) < m and len(breaching) == len(present):
        if treatment == "ignore":
            return Evaluation(current, "too few datapoints to decide; missing data is "
                              "ignored", data)
        return Evaluation("ALARM", _threshold_reason(len(breaching), n, shown, words,
                                                     threshold, m, n - len(present),
                                                     treatment), data)
    return Evaluation("OK", _threshold_reason(len(breaching), n, shown, words, threshold, m,
                                              0, treatment), data)


def _threshold_reason(count: int, n: int, shown: str, words: str, threshold: float, m: int,
                      missing: int, treatment: str) -> str:
    verb = "were" if count != 1 else "was"
    shown = "" if shown == "[]" else f"{shown} "
    text = (f"Threshold Crossed: {count} out of the last {n} datapoints {shown}{verb} "
            f"{words} the threshold ({threshold:g}) (minimum {m} datapoint"
            f"{'s' if m > 1 else ''} for ALARM).")
    if missing:
        text += f" {missing} missing datapoint{'s' if missing > 1 else ''} ({treatment})."
    return text


def _reason_data(alarm: Mapping[str, Any], present: Sequence[tuple[datetime, float]],
                 now: datetime) -> dict[str, Any]:
    starts = window(alarm, now)
    data: dict[str, Any] = {
        "version": "1.0", "queryDate": now.isoformat(timespec="milliseconds"),
        "startDate": starts[0].isoformat(timespec="milliseconds"),
        "period": period_of(alarm), "threshold": float(alarm["Threshold"]),
        "recentDatapoints": [v for _, v in present],
        "evaluatedDatapoints": [{"timestamp": t.isoformat(timespec="milliseconds"),
                                 "value": v} for t, v in reversed(present)]}
    if statistic_of(alarm):
        data["statistic"] = statistic_of(alarm)
    return data
