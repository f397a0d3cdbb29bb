"""The alarms of dashboards/alarms.yaml: their model, validation and CloudFormation lines.

Three kinds: a metric alarm (one metric and statistic), a metric-math alarm (`metrics`
queries and an `expression` over their ids) and a composite alarm (a `rule` over other
alarms' short names, rendered with their logical ids so CloudFormation orders them).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

COMPARISONS = {"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
               "LessThanOrEqualToThreshold"}
STATISTICS = {"Average", "Sum", "Minimum", "Maximum", "SampleCount"}
TREATMENTS = {"missing", "ignore", "breaching", "notBreaching"}
RULE_REFERENCE = re.compile(r"\b(ALARM|OK|INSUFFICIENT_DATA)\(([a-z0-9-]+)\)")
# The composite that game days (chaos/) use as their stop condition.
STOP_CONDITION = "booking-path-unhealthy"


def logical_id_of(name: str) -> str:
    """Return the logical id: `checkout-dlq-not-empty` gives `CheckoutDlqNotEmptyAlarm`."""
    return "".join(part.capitalize() for part in name.split("-")) + "Alarm"


def _valid_statistic(statistic: str) -> bool:
    return statistic in STATISTICS or re.fullmatch(r"p\d+(\.\d+)?", statistic) is not None


@dataclass(frozen=True, kw_only=True)
class Query:
    """One metric a metric-math alarm reads, under its expression id."""

    id: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    statistic: str


@dataclass(frozen=True, kw_only=True)
class Alarm:
    """One CloudWatch metric alarm: one metric, or an expression over several."""

    name: str
    description: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    namespace: str = ""
    metric: str = ""
    dimensions: dict[str, str] = field(default_factory=dict)
    statistic: str = ""
    metrics: tuple[Query, ...] = ()
    expression: str = ""
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = "notBreaching"
    # False for the windows of a burn-rate pair: only their composite notifies.
    notify: bool = True

    @property
    def logical_id(self) -> str:
        """Return the logical id in monitoring.yaml."""
        return logical_id_of(self.name)

    @property
    def percentile(self) -> bool:
        """Return whether the statistic is a percentile such as p99."""
        return self.statistic.startswith("p")

    @property
    def is_math(self) -> bool:
        """Return whether the alarm evaluates an expression over several metrics."""
        return bool(self.expression)


@dataclass(frozen=True, kw_only=True)
class CompositeAlarm:
    """A CloudWatch composite alarm over other alarms, named by their short names."""

    name: str
    description: str
    rule: str
    notify: bool = True

    @property
    def logical_id(self) -> str:
        """Return the logical id in monitoring.yaml."""
        return logical_id_of(self.name)

    @property
    def children(self) -> list[str]:
        """Return the short names of the alarms the rule refers to."""
        return [name for _, name in RULE_REFERENCE.findall(self.rule)]


def load_alarms(raw: dict[str, Any]) -> tuple[list[Alarm], list[CompositeAlarm]]:
    """Read and validate the `alarms` and `composite_alarms` of alarms.yaml."""
    alarms = []
    for spec in raw["alarms"]:
        queries = tuple(Query(**q) for q in spec.get("metrics", []))
        alarms.append(Alarm(**{**spec, "threshold": float(spec["threshold"]),
                               "metrics": queries}))
    composites = [CompositeAlarm(**spec) for spec in raw.get("composite_alarms", [])]
    names = [a.name for a in alarms] + [c.name for c in composites]
    if len(set(names)) != len(names):
        raise ValueError("alarm names must be unique")
    for alarm in alarms:
        _validate(alarm)
    for composite in composites:
        unknown = set(composite.children) - set(names)
        if unknown or not composite.children:
            raise ValueError(f"{composite.name}: the rule names unknown alarms {unknown}")
    if STOP_CONDITION not in names:
        raise ValueError(f"the game days' stop condition {STOP_CONDITION} is not defined")
    return alarms, composites


def _validate(alarm: Alarm) -> None:
    if alarm.comparison not in COMPARISONS:
        raise ValueError(f"{alarm.name}: unknown comparison {alarm.comparison}")
    if alarm.treat_missing_data not in TREATMENTS:
        raise ValueError(f"{alarm.name}: unknown TreatMissingData {alarm.treat_missing_data}")
    statistics = [q.statistic for q in alarm.metrics] if alarm.is_math else [alarm.statistic]
    for statistic in statistics:
        if not _valid_statistic(statistic):
            raise ValueError(f"{alarm.name}: unknown statistic {statistic}")
    if alarm.is_math and (alarm.metric or not alarm.metrics):
        raise ValueError(f"{alarm.name}: a math alarm has metrics and an expression only")
    ids = {q.id for q in alarm.metrics}
    for word in re.findall(r"\b[a-z][A-Za-z0-9_]*\b", alarm.expression):
        if word not in ids:
            raise ValueError(f"{alarm.name}: the expression names {word}, which is no query")
    if alarm.datapoints_to_alarm is not None and \
            not 1 <= alarm.datapoints_to_alarm <= alarm.evaluation_periods:
        raise ValueError(f"{alarm.name}: datapoints_to_alarm must be 1..evaluation_periods")


def _dimension_lines(dimensions: dict[str, str], indent: str, as_parameters: Any) -> list[str]:
    lines = []
    for name, value in dimensions.items():
        text = as_parameters(value, keep=set())
        # cfn-lint (W1020) refuses a Sub without variables.
        expression = f'!Sub "{text}"' if "${" in text else json.dumps(text)
        lines.append(f"{indent}- {{Name: {name}, Value: {expression}}}")
    return lines


def _action_lines(notify: bool) -> list[str]:
    if not notify:
        return []
    return ["      AlarmActions: [!Ref AlarmsTopic]", "      OKActions: [!Ref AlarmsTopic]"]


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def alarm_yaml(alarm: Alarm, as_parameters: Any) -> list[str]:
    """Return the template lines of one metric or metric-math alarm."""
    lines = [
        f"  {alarm.logical_id}:",
        "    Type: AWS::CloudWatch::Alarm",
        "    Properties:",
        f'      AlarmName: !Sub "itinera-${{Stage}}-{alarm.name}"',
        f"      AlarmDescription: {json.dumps(alarm.description)}",
    ]
    if alarm.is_math:
        lines.append("      Metrics:")
        for query in alarm.metrics:
            lines += [f"        - Id: {query.id}", "          ReturnData: false",
                      "          MetricStat:", "            Metric:",
                      f"              Namespace: {query.namespace}",
                      f'              MetricName: "{query.metric}"',
                      "              Dimensions:",
                      *_dimension_lines(query.dimensions, "                ", as_parameters),
                      f"            Period: {alarm.period}",
                      f"            Stat: {query.statistic}"]
        lines += ["        - Id: value", f"          Expression: {json.dumps(alarm.expression)}",
                  f"          Label: {json.dumps(alarm.name)}", "          ReturnData: true"]
    else:
        stat_key = "ExtendedStatistic" if alarm.percentile else "Statistic"
        lines += [f"      Namespace: {alarm.namespace}", f'      MetricName: "{alarm.metric}"',
                  "      Dimensions:",
                  *_dimension_lines(alarm.dimensions, "        ", as_parameters),
                  f"      {stat_key}: {alarm.statistic}", f"      Period: {alarm.period}"]
    lines += [f"      EvaluationPeriods: {alarm.evaluation_periods}"]
    if alarm.datapoints_to_alarm is not None:
        lines += [f"      DatapointsToAlarm: {alarm.datapoints_to_alarm}"]
    lines += [
        f"      Threshold: {_number(alarm.threshold)}",
        f"      ComparisonOperator: {alarm.comparison}",
        f"      TreatMissingData: {alarm.treat_missing_data}",
        *_action_lines(alarm.notify),
        "",
    ]
    return lines


def composite_yaml(composite: CompositeAlarm) -> list[str]:
    """Return the template lines of one composite alarm; its rule refers to logical ids."""
    rule = RULE_REFERENCE.sub(lambda m: f'{m.group(1)}("${{{logical_id_of(m.group(2))}}}")',
                              composite.rule)
    return [
        f"  {composite.logical_id}:",
        "    Type: AWS::CloudWatch::CompositeAlarm",
        "    Properties:",
        f'      AlarmName: !Sub "itinera-${{Stage}}-{composite.name}"',
        f"      AlarmDescription: {json.dumps(composite.description)}",
        f"      AlarmRule: !Sub {json.dumps(rule)}",
        *_action_lines(composite.notify),
        "",
    ]
