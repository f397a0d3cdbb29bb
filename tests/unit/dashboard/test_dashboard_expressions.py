"""Metric math over aligned series, as GetMetricData evaluates it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.drawing.expressions import evaluate

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(*seconds: int) -> list[datetime]:
    """Timestamps *seconds* after T0."""
    return [T0 + timedelta(seconds=s) for s in seconds]


def test_arithmetic_keeps_the_timestamps_both_sides_have() -> None:
    """`100 * (1 - e / r)` is computed where both series have a point, with precedence."""
    t = at(0, 6, 12)
    requests = {t[0]: 100.0, t[1]: 50.0, t[2]: 10.0}
    errors = {t[0]: 1.0, t[1]: 5.0}
    assert evaluate("100 * (1 - e / r)", {"e": errors, "r": requests}) == {
        t[0]: 99.0, t[1]: 90.0}


def test_fill_gives_a_value_at_every_timestamp_of_the_widget() -> None:
    """FILL(e, 0) counts a period with no errors as zero errors."""
    t = at(0, 6, 12)
    requests = {t[0]: 100.0, t[1]: 50.0, t[2]: 10.0}
    errors = {t[0]: 1.0}
    assert evaluate("100 * (1 - FILL(e, 0) / r)", {"e": errors, "r": requests}) == {
        t[0]: 99.0, t[1]: 100.0, t[2]: 100.0}


def test_dividing_by_zero_gives_no_point() -> None:
    """A period with zero lookups has no hit ratio, rather than infinity."""
    t = at(0, 6)
    hits, misses = {t[0]: 3.0, t[1]: 0.0}, {t[0]: 1.0, t[1]: 0.0}
    assert evaluate("100 * hits / (hits + misses)", {"hits": hits, "misses": misses}) == {
        t[0]: 75.0}


def test_unary_minus_and_subtraction() -> None:
    """`-a + 2 - b` negates, adds and subtracts per timestamp."""
    (t,) = at(0)
    assert evaluate("-a + 2 - b", {"a": {t: 1.0}, "b": {t: 0.5}}) == {t: 0.5}


def test_unknown_ids_and_bad_syntax_are_errors() -> None:
    """An expression naming an id the widget lacks, or malformed, raises ValueError."""
    with pytest.raises(ValueError, match="unknown name"):
        evaluate("x + 1", {})
    with pytest.raises(ValueError):
        evaluate("(a + ", {"a": {}})
    with pytest.raises(ValueError):
        evaluate("a $ b", {"a": {}, "b": {}})
