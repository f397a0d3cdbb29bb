"""Metric math for widgets: the alarm evaluator's, over the series a widget's lines got.

GetMetricData on AWS evaluates expressions itself; moto only echoes them, so the renderer
evaluates them here, the same way for both, with the one evaluator the local alarms use
(localaws/alarms/expression.py): series align by timestamp, a binary operation
keeps the timestamps both sides have, as CloudWatch does, and FILL gives a series a value at
every timestamp of the widget.
"""

from __future__ import annotations

from datetime import datetime

from localaws.alarms import expression

Series = dict[datetime, float]


def evaluate(text: str, series: dict[str, Series]) -> Series:
    """Return the series *text* computes from the series named by id in *series*."""
    grid = sorted({t for s in series.values() for t in s})
    value = expression.evaluate(text, series, grid)
    if not isinstance(value, dict):
        return dict.fromkeys(grid, value)
    return value
