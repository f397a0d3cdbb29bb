"""monitoring.yaml's alarms and dashboard are exactly what dashboards/alarms.yaml defines."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from dashboards import template
from tests.infra.conftest import raw

REQUIRED = {
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "CheckoutDeadLetterQueue"),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "NotifierDeadLetterQueue"),
    ("AWS/Lambda", "Errors", "CheckoutWorkerFunction"),
    ("AWS/ApiGateway", "5XXError", "itinera-${Stage}-checkout"),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "PublicAlb"),
    ("AWS/ApplicationELB", "TargetResponseTime", "PublicAlb"),
    ("AWS/ECS", "CPUUtilization", "GatewayService"),
    ("AWS/ECS", "CPUUtilization", "InventoryService"),
    ("AWS/ECS", "CPUUtilization", "NotifierService"),
    ("AWS/RDS", "CPUUtilization", "AuroraCluster"),
    ("AWS/RDS", "AuroraReplicaLagMaximum", "AuroraCluster"),
    ("AWS/ElastiCache", "EngineCPUUtilization", "RedisReplicationGroup"),
    # Issue 11: total outage, ELB 5xx, queue age, throttles, the writer's CPU, Redis failover.
    ("AWS/ApplicationELB", "HealthyHostCount", "PublicAlb"),
    ("AWS/ApplicationELB", "HealthyHostCount", "InternalAlb"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "PublicAlb"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "InternalAlb"),
    ("AWS/SQS", "ApproximateAgeOfOldestMessage", "CheckoutQueue"),
    ("AWS/Lambda", "Throttles", "CheckoutWorkerFunction"),
    ("AWS/Lambda", "Throttles", "CheckoutApiFunction"),
    ("AWS/Lambda", "Errors", "CheckoutApiFunction"),
    ("AWS/RDS", "CPUUtilization", "WRITER"),
    ("AWS/ElastiCache", "IsMaster", "RedisReplicationGroup"),
}


@pytest.fixture(scope="module")
def render() -> ModuleType:
    """dashboards/template.py: what writes the alarms and dashboards into the template."""
    return template


def test_committed_template_matches_the_definitions(render: ModuleType) -> None:
    """Re-rendering dashboards/alarms.yaml changes nothing in infra/sam/monitoring.yaml."""
    current = render.TEMPLATE.read_text()
    assert render.rendered(current, render.load()) == current, \
        "run `make monitoring` and commit infra/sam/monitoring.yaml"


def test_the_root_passes_every_name_the_alarms_need(render: ModuleType) -> None:
    """Each resource an alarm names in another stack is a parameter that template.yaml passes."""
    (monitoring,) = [r for r in raw("template.yaml")["Resources"].values()
                     if r["Properties"]["TemplateURL"] == "monitoring.yaml"]
    needed = set(render.parameters(render.load()))
    assert needed and needed <= set(monitoring["Properties"]["Parameters"])


def _metrics(props: dict[str, Any]) -> set[tuple[str, str]]:
    """The (namespace, metric) pairs an alarm's properties read, math queries included."""
    if "Metrics" not in props:
        return {(props["Namespace"], props["MetricName"])}
    return {(q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"])
            for q in props["Metrics"] if "MetricStat" in q}


def test_deployed_alarms_are_the_defined_ones(render: ModuleType,
                                              resources: dict[str, Any]) -> None:
    """Each defined alarm is deployed with its metrics, threshold and actions, nothing else is."""
    deployed = {k: v["Properties"] for k, v in resources.items()
                if v["Type"] == "AWS::CloudWatch::Alarm"}
    defined = {a.logical_id: a for a in render.load().alarms}
    assert set(deployed) == set(defined)
    for name, alarm in defined.items():
        props = deployed[name]
        wanted = {(q.namespace, q.metric) for q in alarm.metrics} or {
            (alarm.namespace, alarm.metric)}
        assert _metrics(props) == wanted
        assert float(props["Threshold"]) == alarm.threshold
        assert props.get("AlarmActions") == ([{"Ref": "AlarmsTopic"}] if alarm.notify else None)


def test_math_alarms_return_one_expression_over_their_queries(
        render: ModuleType, resources: dict[str, Any]) -> None:
    """A metric-math alarm returns exactly one series: its expression, over its query ids."""
    for alarm in (a for a in render.load().alarms if a.is_math):
        queries = resources[alarm.logical_id]["Properties"]["Metrics"]
        returned = [q for q in queries if q["ReturnData"]]
        assert [q["Expression"] for q in returned] == [alarm.expression]
        assert all(q["MetricStat"]["Period"] == alarm.period for q in queries
                   if "MetricStat" in q)


def test_the_required_failure_signals_each_have_an_alarm(render: ModuleType) -> None:
    """DLQs, errors, throttles, 5xx, latency, outage, CPU and failover signals are covered."""
    sources = [(a.namespace, a.metric, a.dimensions) for a in render.load().alarms]
    sources += [(q.namespace, q.metric, q.dimensions) for a in render.load().alarms
                for q in a.metrics]
    covered = {(ns, metric, value.strip("${}").split(".")[0].split("}")[0])
               for ns, metric, dims in sources for value in dims.values()}
    covered |= {(ns, metric, value) for ns, metric, dims in sources for value in dims.values()}
    assert REQUIRED - covered == set()


def test_the_booking_path_composite_is_the_stop_condition() -> None:
    """booking-path-unhealthy is a composite over the total-outage, burn and DLQ alarms."""
    props = raw("monitoring.yaml")["Resources"]["BookingPathUnhealthyAlarm"]
    assert props["Type"] == "AWS::CloudWatch::CompositeAlarm"
    assert props["Properties"]["AlarmName"] == {
        "Fn::Sub": "itinera-${Stage}-booking-path-unhealthy"}
    rule = props["Properties"]["AlarmRule"]["Fn::Sub"]
    for child in ("GatewayNoHealthyHostsAlarm", "InventoryNoHealthyHostsAlarm",
                  "GatewayElb5xxAlarm", "GatewayErrorBurnFastAlarm",
                  "GatewayLatencyBurnAlarm", "CheckoutDlqNotEmptyAlarm"):
        assert f'ALARM("${{{child}}}")' in rule
    # One AZ down is what game days do on purpose: it must not stop them.
    assert "AzA" not in rule and "AzB" not in rule
    assert props["Properties"]["AlarmActions"] == [{"Ref": "AlarmsTopic"}]


def test_burn_rate_composites_need_both_windows() -> None:
    """Each burn-rate composite alarms only when its long and its short window both do."""
    resources = raw("monitoring.yaml")["Resources"]
    for name, windows in {"GatewayErrorBurnFastAlarm": ("1h", "5m"),
                          "GatewayErrorBurnSlowAlarm": ("6h", "30m"),
                          "GatewayLatencyBurnAlarm": ("1h", "5m")}.items():
        rule = resources[name]["Properties"]["AlarmRule"]["Fn::Sub"]
        base = name.removesuffix("Alarm").removesuffix("Fast").removesuffix("Slow")
        assert rule == (f'ALARM("${{{base}{windows[0]}Alarm}}") AND '
                        f'ALARM("${{{base}{windows[1]}Alarm}}")')


def test_aurora_failover_events_reach_the_alarms_topic() -> None:
    """RDS failover events for the cluster go to the alarms topic, which lets EventBridge in."""
    resources = raw("monitoring.yaml")["Resources"]
    rule = resources["AuroraFailoverEvents"]["Properties"]
    assert rule["EventPattern"]["source"] == ["aws.rds"]
    assert rule["EventPattern"]["detail"]["EventCategories"] == ["failover"]
    assert rule["Targets"][0]["Arn"] == {"Ref": "AlarmsTopic"}
    statement = resources["AlarmsTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["AuroraFailoverEvents", "Arn"]}


def test_the_dashboard_shows_every_alarm(render: ModuleType, resources: dict[str, Any]) -> None:
    """The deployed dashboard has an alarm widget naming each alarm's ARN, composites too."""
    sub = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    body = json.loads(sub[0] if isinstance(sub, list) else sub)
    shown = {arn for w in body["widgets"] if w["type"] == "alarm"
             for arn in w["properties"]["alarms"]}
    monitoring = render.load()
    assert shown == {f"${{{a.logical_id}.Arn}}"
                     for a in [*monitoring.alarms, *monitoring.composites]}
