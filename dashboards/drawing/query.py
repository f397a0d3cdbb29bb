"""Fetch what one metric widget draws: its metric lines, SEARCH results and math."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dashboards.drawing import expressions, search
from dashboards.drawing.widgets import Line, lines, metric_query, scaled_period

Points = list[tuple[datetime, float]]


class MetricReader(Protocol):
    """The common contract's reader (localaws/cloudwatch/reader.py)."""

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, Points]:
        """Return Id -> (timestamp, value) points, oldest first, for each returned query."""
        ...


@dataclass(frozen=True)
class Plotted:
    """One drawn series: its label and points."""

    label: str
    points: Points
    metric: tuple[str, str] = ("", "")  # namespace and metric name, when it is one metric


@dataclass(frozen=True)
class WidgetData:
    """What a metric widget shows, and the errors met while fetching it."""

    series: list[Plotted]
    errors: list[str]

    @property
    def has_data(self) -> bool:
        """Return whether any drawn series has a point."""
        return any(s.points for s in self.series)


def fetch(properties: dict[str, Any], *, reader: MetricReader, catalog: search.MetricCatalog,
          start: datetime, end: datetime, scale: float) -> WidgetData:
    """Return the series a metric widget draws, its periods scaled by *scale*."""
    widget_lines = lines(properties)
    queries: list[dict[str, Any]] = []
    aws_periods: dict[str, int] = {}  # query id -> the period the widget names (AWS's)
    searches: list[tuple[Line, search.Search, list[dict[str, Any]]]] = []
    errors: list[str] = []
    for line in widget_lines:
        period = scaled_period(line.period, scale)
        if not line.is_expression:
            queries.append(metric_query(line, period=period))
            aws_periods[line.id] = line.period
            continue
        try:
            found = search.parse(line.expression)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if found is not None:
            period = scaled_period(found.period or line.period, scale)
            mine: list[dict[str, Any]] = []
            searches.append((line, found, mine))
            results = search.find(found, catalog)
            labels = search.distinct_labels(results, found)
            for index, (dims, label) in enumerate(zip(results, labels, strict=True)):
                mine.append({"Id": f"{line.id}_{index}", "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": found.namespace, "MetricName": found.metric,
                               "Dimensions": [{"Name": k, "Value": v} for k, v in dims]},
                    "Period": period, "Stat": found.stat},
                    "Label": label})
                aws_periods[f"{line.id}_{index}"] = found.period or line.period
            queries += mine
    answers = per_aws_period(reader.get_metric_data(queries, start, end) if queries else {},
                             queries, aws_periods)
    by_id = {line.id: dict(answers.get(line.id, [])) for line in widget_lines
             if not line.is_expression}
    series: list[Plotted] = []
    for line in widget_lines:
        if line.is_expression:
            series += _expression(line, searches, answers, by_id, errors)
        elif line.visible:
            series.append(Plotted(line.label, answers.get(line.id, []),
                                  (line.namespace, line.metric)))
    return WidgetData(series=series, errors=errors)


# Statistics that count over their period: a shorter local period counts less.
COUNTS = ("Sum", "SampleCount")


def per_aws_period(answers: dict[str, Points], queries: list[dict[str, Any]],
                   aws_periods: dict[str, int]) -> dict[str, Points]:
    """Return *answers* with each count over a time-scaled period scaled back to the AWS
    period the widget names (as the local autoscaler reads request counts), so a widget
    reads as on AWS at the same rate and a target line (1,000 requests per target per
    minute) means the same; averages, maxima and percentiles are the same over any period."""
    out = dict(answers)
    for query in queries:
        stat = query["MetricStat"]
        local = float(stat["Period"])
        aws = aws_periods.get(query["Id"], local)
        if stat["Stat"] in COUNTS and query["Id"] in out and aws != local:
            out[query["Id"]] = [(at, value * aws / local) for at, value in out[query["Id"]]]
    return out


def _expression(line: Line, searches: list[tuple[Line, search.Search, list[dict[str, Any]]]],
                answers: dict[str, Points], by_id: dict[str, dict[datetime, float]],
                errors: list[str]) -> list[Plotted]:
    for searched, found, queries in searches:
        if searched is line:
            if not line.visible:
                return []
            return [Plotted(q["Label"], answers.get(q["Id"], []), (found.namespace, found.metric))
                    for q in queries]
    try:
        values = expressions.evaluate(line.expression, by_id)
    except ValueError as exc:
        errors.append(f"{line.id}: {exc}")
        return []
    # Later expressions may name this one.
    by_id[line.id] = values
    return [Plotted(line.label, sorted(values.items()))] if line.visible else []
