"""A metric widget's `metrics` array, in dashboard-body syntax, as the lines it draws."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

REPEAT_REST = "..."  # the previous row's leading values, up to this row's own
REPEAT_ONE = "."  # the previous row's value in the same position
SHORT_VALUE = 24


@dataclass(frozen=True, kw_only=True)
class Line:
    """One row of a metrics array: a metric with its statistic, or an expression."""

    id: str
    label: str
    stat: str
    period: int
    visible: bool = True
    namespace: str = ""
    metric: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    expression: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_expression(self) -> bool:
        """Return whether this line is a math or SEARCH expression, not a metric."""
        return bool(self.expression)


def expand(rows: list[list[Any]]) -> list[tuple[list[str], dict[str, Any]]]:
    """Return each row as its full positional values and its options, shorthand expanded."""
    out: list[tuple[list[str], dict[str, Any]]] = []
    previous: list[str] = []
    for row in rows:
        options = dict(row[-1]) if row and isinstance(row[-1], dict) else {}
        values = [v for v in row if not isinstance(v, dict)]
        if values and values[0] == REPEAT_REST:
            rest = values[1:]
            if len(rest) > len(previous):
                raise ValueError(f"row {row} repeats more than the row before has")
            values = previous[:len(previous) - len(rest)] + rest
        for index, value in enumerate(values):
            if value == REPEAT_ONE:
                if index >= len(previous):
                    raise ValueError(f"row {row}: nothing above position {index} to repeat")
                values[index] = previous[index]
        if values:
            if len(values) < 2 or len(values) % 2:
                raise ValueError(f"row {row}: want namespace, metric, then name/value pairs")
            previous = values
        elif "expression" not in options:
            raise ValueError(f"row {row} is neither a metric nor an expression")
        out.append((values, options))
    return out


def lines(properties: dict[str, Any]) -> list[Line]:
    """Return the lines of a metric widget, each with its id, label, statistic and period."""
    default_stat = properties.get("stat", "Average")
    default_period = int(properties.get("period", 300))
    result = []
    for index, (values, options) in enumerate(expand(properties["metrics"])):
        ident = options.get("id", f"m{index + 1}")
        common = {"id": ident, "stat": options.get("stat", default_stat),
                  "period": int(options.get("period", default_period)),
                  "visible": options.get("visible", True), "options": options}
        if values:
            namespace, metric, *pairs = values
            dims = tuple(zip(pairs[0::2], pairs[1::2], strict=True))
            # Long values (load balancer and target group names) would crowd the legend.
            label = options.get("label") or " ".join(
                [metric, *(v for _, v in dims if len(v) <= SHORT_VALUE)])
            result.append(Line(label=label, namespace=namespace, metric=metric,
                               dimensions=dims, **common))
        else:
            expression = options["expression"]
            result.append(Line(label=options.get("label", ident), expression=expression,
                               **common))
    return result


def scaled_period(period: int, scale: float) -> int:
    """Return *period* (AWS seconds) as the local stack runs it, at least one second."""
    return max(1, math.ceil(period * scale))


def metric_query(line: Line, *, period: int) -> dict[str, Any]:
    """Return a GetMetricData query for a metric line."""
    assert not line.is_expression
    return {"Id": line.id, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": line.namespace, "MetricName": line.metric,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in line.dimensions]},
        "Period": period, "Stat": line.stat}}
