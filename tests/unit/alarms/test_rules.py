"""Composite alarm rules and metric math, evaluated as CloudWatch does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from localaws.alarms.composite import RuleError, evaluate_rule, referenced
from localaws.alarms.expression import ExpressionError, evaluate

T1, T2, T3 = (datetime(2026, 1, 1, 0, m, tzinfo=UTC) for m in (1, 2, 3))
STATES = {"outage": "ALARM", "burn-1h": "ALARM", "burn-5m": "OK", "dlq": "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(("rule", "expected"), [
    ('ALARM("outage")', "ALARM"),
    ('OK("outage")', "OK"),
    ('ALARM("burn-1h") AND ALARM("burn-5m")', "OK"),
    ('ALARM("burn-1h") AND NOT ALARM("burn-5m")', "ALARM"),
    ('ALARM("burn-5m") OR ALARM("dlq") OR ALARM(outage)', "ALARM"),
    ('INSUFFICIENT_DATA("dlq")', "ALARM"),
    ('(ALARM("burn-5m") OR TRUE) AND FALSE', "OK"),
    ('ALARM("burn-5m") OR ALARM("burn-1h") AND ALARM("burn-5m")', "OK"),  # AND binds first
    ('ALARM("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:outage")', "ALARM"),
])
def test_composite_rules(rule: str, expected: str) -> None:
    """ALARM/OK/INSUFFICIENT_DATA(), AND, OR, NOT, TRUE/FALSE and parentheses combine."""
    assert evaluate_rule(rule, STATES).state == expected


def test_the_composite_names_the_alarms_that_triggered_it() -> None:
    """A composite in ALARM says which of its alarms made the rule hold."""
    result = evaluate_rule('ALARM("burn-5m") OR ALARM("outage")', STATES)
    assert result.triggering == ["outage"]
    assert "outage is ALARM" in result.reason


def test_a_composite_has_insufficient_data_while_all_its_alarms_do() -> None:
    """Before any alarm it names has been evaluated, the composite is INSUFFICIENT_DATA too."""
    rule = 'ALARM("a") OR ALARM("b")'
    assert referenced(rule) == ["a", "b"]
    assert evaluate_rule(rule, {"a": "INSUFFICIENT_DATA",
                                "b": "INSUFFICIENT_DATA"}).state == "INSUFFICIENT_DATA"
    assert evaluate_rule(rule, {"a": "OK", "b": "INSUFFICIENT_DATA"}).state == "OK"


@pytest.mark.parametrize("rule", ['ALARM("nobody")', 'ALARM("outage") AND', "ALARM(outage"])
def test_bad_rules_are_refused(rule: str) -> None:
    """A rule naming an unknown alarm, or cut short, is an error, not a silent OK."""
    with pytest.raises(RuleError):
        evaluate_rule(rule, STATES)


def test_math_aligns_series_per_timestamp() -> None:
    """Series combine point by point; a timestamp in only one series gives no point."""
    errors = {T1: 1.0, T2: 4.0}
    requests = {T1: 100.0, T2: 100.0, T3: 50.0}
    assert evaluate("(errors + 1) / requests", {"errors": errors, "requests": requests}) == {
        T1: 0.02, T2: 0.05}


def test_an_empty_series_gives_an_empty_result() -> None:
    """No requests at all (an empty series) gives no ratio, not an error."""
    assert evaluate("(FILL(e, 0) + 1) / r", {"e": {}, "r": {}}, grid=[T1, T2]) == {}
    assert evaluate("e * 2", {"e": {}}) == {}


def test_fill_gives_every_period_a_value() -> None:
    """FILL(m, 0) puts 0 where the metric had no datapoint, over the whole range."""
    assert evaluate("FILL(m, 0) * 2", {"m": {T2: 3.0}}, grid=[T1, T2, T3]) == {
        T1: 0.0, T2: 6.0, T3: 0.0}


def test_division_by_zero_drops_the_point() -> None:
    """A period with zero requests has no error ratio rather than an infinite one."""
    assert evaluate("e / r", {"e": {T1: 1.0, T2: 0.0}, "r": {T1: 0.0, T2: 10.0}}) == {T2: 0.0}


def test_unknown_names_are_refused() -> None:
    """An expression naming a query or function the evaluator lacks is an error."""
    with pytest.raises(ExpressionError):
        evaluate("ANOMALY_DETECTION_BAND(m)", {"m": {T1: 1.0}})
