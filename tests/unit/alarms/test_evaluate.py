"""The local alarm evaluator against hand-made datapoint series, as CloudWatch evaluates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from localaws.alarms.evaluate import alarm_series, evaluate_metric_alarm, window
from localaws.alarms.memory import MemoryReader

NOW = datetime(2026, 11, 27, 12, 0, 30, tzinfo=UTC)
DIMS = {"QueueName": "itinera-dev-checkout-dlq"}


def alarm(**overrides: Any) -> dict[str, Any]:
    """A 3-period DLQ alarm (Maximum > 0), changed by *overrides*."""
    return {"AlarmName": "dlq", "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": DIMS["QueueName"]}],
            "Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 3, "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold", **overrides}


def series(*values: float | None, of: dict[str, Any] | None = None) -> dict[datetime, float]:
    """Values for the alarm's evaluation range, oldest first; None is a missing period."""
    starts = window(of or alarm(), NOW)
    assert len(starts) == len(values)
    return {t: v for t, v in zip(starts, values, strict=True) if v is not None}


def state(values: tuple[float | None, ...], current: str = "OK", **overrides: Any) -> str:
    """The state the evaluator gives the alarm for *values*."""
    spec = alarm(**overrides)
    return evaluate_metric_alarm(spec, series(*values, of=spec), now=NOW,
                                 current=current).state


def test_the_window_is_the_last_complete_periods() -> None:
    """Three 60 s periods before 12:00:30 start at 11:57, 11:58 and 11:59 (12:00 is open)."""
    assert window(alarm(), NOW) == [datetime(2026, 11, 27, 11, m, tzinfo=UTC)
                                    for m in (57, 58, 59)]


@pytest.mark.parametrize(("values", "expected"), [
    ((1, 1, 0), "ALARM"),   # 2 of 3 breach
    ((1, 0, 0), "OK"),      # 1 of 3
    ((0, 1, 1), "ALARM"),
    ((1, 1, 1), "ALARM"),
])
def test_m_of_n_datapoints_to_alarm(values: tuple[float, ...], expected: str) -> None:
    """With DatapointsToAlarm 2 of 3 periods, two breaching periods anywhere in the range alarm."""
    assert state(values, DatapointsToAlarm=2) == expected


def test_without_datapoints_to_alarm_every_period_must_breach() -> None:
    """DatapointsToAlarm defaults to EvaluationPeriods: 2 of 3 breaching stays OK."""
    assert state((1, 1, 0)) == "OK"
    assert state((1, 1, 1)) == "ALARM"


# CloudWatch's missing-data table for a 3-of-3 alarm: (values, missing, ignore, breaching,
# notBreaching); `keep` is the current state (here ALARM, to tell it apart from OK).
TABLE = [
    ((0, 1, 1), "OK", "OK", "OK", "OK"),
    ((0, 0, 1), "OK", "OK", "OK", "OK"),
    ((0, None, None), "OK", "OK", "OK", "OK"),
    ((None, None, None), "INSUFFICIENT_DATA", "keep", "ALARM", "OK"),
    ((None, 1, None), "ALARM", "keep", "ALARM", "OK"),
]


@pytest.mark.parametrize("row", TABLE)
@pytest.mark.parametrize("column", [1, 2, 3, 4])
def test_missing_data_treatments(row: tuple[Any, ...], column: int) -> None:
    """Each TreatMissingData gives the state of CloudWatch's table for that row."""
    treatment = ["", "missing", "ignore", "breaching", "notBreaching"][column]
    expected = row[column].replace("keep", "ALARM")
    assert state(row[0], current="ALARM", TreatMissingData=treatment) == expected


def test_missing_is_the_default_treatment() -> None:
    """An alarm without TreatMissingData and no data at all has insufficient data."""
    assert state((None, None, None)) == "INSUFFICIENT_DATA"


def test_breaching_missing_points_count_towards_m() -> None:
    """With `breaching`, one breaching point and one missing make 2 of 3."""
    assert state((0, 1, None), TreatMissingData="breaching", DatapointsToAlarm=2) == "ALARM"


def test_a_percentile_alarm_reads_the_percentile_not_the_average() -> None:
    """1 slow request in 50 per period: p99 is above 1 s while the average is far below."""
    spec = {**alarm(), "Namespace": "AWS/ApplicationELB", "MetricName": "TargetResponseTime",
            "Dimensions": [{"Name": "LoadBalancer", "Value": "app/public/1"}],
            "Statistic": None, "ExtendedStatistic": "p99", "Threshold": 1}
    reader = MemoryReader()
    for start in window(spec, NOW):
        reader.put("AWS/ApplicationELB", "TargetResponseTime", {"LoadBalancer": "app/public/1"},
                   start + timedelta(seconds=5), *([0.05] * 49), 3.0)
    values = alarm_series(spec, reader, NOW)
    assert list(values.values()) == [3.0, 3.0, 3.0]
    assert evaluate_metric_alarm(spec, values, now=NOW, current="OK").state == "ALARM"
    average = {**spec, "ExtendedStatistic": None, "Statistic": "Average"}
    assert evaluate_metric_alarm(average, alarm_series(average, reader, NOW), now=NOW,
                                 current="ALARM").state == "OK"


def test_a_metric_math_alarm_evaluates_its_returned_expression() -> None:
    """An error ratio (5xx / requests) alarms on the ratio, per aligned period."""
    def stat(metric: str) -> dict[str, Any]:
        return {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": metric,
                           "Dimensions": [{"Name": "LoadBalancer", "Value": "app/public/1"}]},
                "Period": 60, "Stat": "Sum"}
    spec = {"AlarmName": "burn", "EvaluationPeriods": 2, "Threshold": 0.0144,
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
            "Metrics": [
                {"Id": "errors", "MetricStat": stat("HTTPCode_Target_5XX_Count"),
                 "ReturnData": False},
                {"Id": "requests", "MetricStat": stat("RequestCount"), "ReturnData": False},
                {"Id": "ratio", "Expression": "FILL(errors, 0) / requests",
                 "ReturnData": True}]}
    reader = MemoryReader()
    first, second = window(spec, NOW)
    lb = {"LoadBalancer": "app/public/1"}
    reader.put("AWS/ApplicationELB", "RequestCount", lb, first, 100)
    reader.put("AWS/ApplicationELB", "RequestCount", lb, second, 100)
    reader.put("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, second, 5)
    values = alarm_series(spec, reader, NOW)
    assert values == {first: 0.0, second: 0.05}
    assert evaluate_metric_alarm(spec, values, now=NOW, current="OK").state == "OK"
    reader.put("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, first, 2)
    assert evaluate_metric_alarm(spec, alarm_series(spec, reader, NOW), now=NOW,
                                 current="OK").state == "ALARM"


def test_the_reason_names_the_datapoints_and_threshold() -> None:
    """A transition's reason and StateReasonData say which datapoints crossed what."""
    result = evaluate_metric_alarm(alarm(), series(2, 3, 4), now=NOW, current="OK")
    assert result.reason.startswith("Threshold Crossed: 3 out of the last 3 datapoints")
    assert "greater than the threshold (0)" in result.reason
    assert result.reason_data["recentDatapoints"] == [2, 3, 4]
    assert result.reason_data["statistic"] == "Maximum"


def test_anomaly_bands_are_refused() -> None:
    """A band comparison, which needs an anomaly model, is refused rather than guessed."""
    with pytest.raises(ValueError, match="anomaly"):
        state((1, 1, 1), ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold")
