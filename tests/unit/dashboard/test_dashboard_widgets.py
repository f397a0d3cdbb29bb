"""A widget's metrics array, in dashboard-body syntax, becomes GetMetricData queries."""

from __future__ import annotations

import pytest

from dashboards.drawing.widgets import expand, lines, metric_query, scaled_period


def test_repeat_rest_keeps_the_leading_values_of_the_row_above() -> None:
    """`[..., v]` is the previous row with its last value replaced; `[...]` alone repeats it."""
    rows = [["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", "c1", "Role", "WRITER"],
            ["...", "READER", {"label": "reader"}],
            ["...", {"stat": "p99"}]]
    assert [values for values, _ in expand(rows)] == [
        ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", "c1", "Role", "WRITER"],
        ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", "c1", "Role", "READER"],
        ["AWS/RDS", "CPUUtilization", "DBClusterIdentifier", "c1", "Role", "READER"]]
    assert expand(rows)[1][1] == {"label": "reader"}


def test_repeat_one_takes_the_value_in_the_same_position_above() -> None:
    """`.` stands for the previous row's value at that position."""
    rows = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q1"],
            [".", ".", ".", "q2"],
            [".", "ApproximateAgeOfOldestMessage", ".", "."]]
    assert [values for values, _ in expand(rows)][1:] == [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q2"],
        ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", "q2"]]


def test_an_expression_row_does_not_become_the_row_to_repeat() -> None:
    """After a math row, `.` still refers to the last metric row."""
    rows = [["N", "A", "D", "x"], [{"expression": "m1 * 2"}], [".", "B", ".", "."]]
    assert expand(rows)[2][0] == ["N", "B", "D", "x"]


def test_malformed_rows_are_refused() -> None:
    """A row with a dimension name and no value, or a repeat with nothing above, is an error."""
    with pytest.raises(ValueError):
        expand([["N", "A", "D"]])
    with pytest.raises(ValueError):
        expand([[".", "A"]])
    with pytest.raises(ValueError):
        expand([[{"label": "no metric, no expression"}]])


def test_lines_take_the_widget_defaults_and_their_own_options() -> None:
    """Each line gets an id (m1, m2... unless given), the widget's stat and period or its own."""
    props = {"stat": "Sum", "period": 60, "metrics": [
        ["Itinera/Gateway", "Latency", "Route", "GET /v1/flights", "Service", "gateway",
         {"stat": "p99", "label": "search p99"}],
        ["Itinera/Gateway", "Requests", "Route", "GET /v1/flights", "Service", "gateway",
         {"id": "r", "visible": False, "period": 300}],
        [{"expression": "r / 60", "label": "per second", "id": "rate"}]]}
    first, second, third = lines(props)
    assert (first.id, first.stat, first.period, first.label) == ("m1", "p99", 60, "search p99")
    assert first.dimensions == (("Route", "GET /v1/flights"), ("Service", "gateway"))
    assert (second.id, second.stat, second.period, second.visible) == ("r", "Sum", 300, False)
    assert third.is_expression and third.expression == "r / 60" and third.label == "per second"


def test_a_metric_line_is_a_get_metric_data_query_at_the_scaled_period() -> None:
    """The query names the metric, its dimensions, the statistic and the local period."""
    (line,) = lines({"stat": "Maximum", "period": 60, "metrics": [
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", "q1"]]})
    query = metric_query(line, period=scaled_period(line.period, 0.1))
    assert query == {"Id": "m1", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                   "Dimensions": [{"Name": "QueueName", "Value": "q1"}]},
        "Period": 6, "Stat": "Maximum"}}


def test_scaled_periods_never_fall_below_a_second() -> None:
    """A 60 s period at scale 0.1 is 6 s; a 5 s one at 0.1 is 1 s, not 0."""
    assert (scaled_period(60, 0.1), scaled_period(5, 0.1), scaled_period(60, 1.0)) == (6, 1, 60)
