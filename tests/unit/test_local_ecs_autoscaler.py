"""The autoscaler asks CloudWatch for each policy's metric and applies target tracking."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localaws.ecs.appscaling import register, scalable_target, write_targets
from localaws.ecs.autoscaler import Autoscaler
from localaws.ecs.model import EcsService, ecs_services
from localaws.ecs.scheduler import Scheduler
from localaws.processes import Supervisor
from localaws.template import load_sam, transform

GROUPS = {"GatewayTargetGroup": "targetgroup/itinera-dev-GatewayTargetGroup/0123456789abcdef",
          "InventoryTargetGroup": "targetgroup/itinera-dev-InventoryTargetGroup/fedcba9876543210"}


@pytest.fixture(scope="module")
def gateway() -> EcsService:
    """The gateway service from the real template."""
    sam = load_sam()
    template = transform(sam, region="eu-west-1", parameters={"Stage": "dev"})
    return ecs_services(template, sam.get("Mappings", {}))["gateway"]


class RecordedReader:
    """Answers each metric with a recorded series, one value per period, ending at *end*."""

    def __init__(self, series: dict[str, list[float]]) -> None:
        self.series = series
        self.queries: list[dict[str, Any]] = []

    def get_metric_data(self, queries: list[dict[str, Any]], start: datetime, end: datetime
                        ) -> dict[str, list[tuple[datetime, float]]]:
        """Return the recorded values for each query's metric name."""
        self.queries += queries
        out = {}
        for query in queries:
            stat = query["MetricStat"]
            values = self.series[stat["Metric"]["MetricName"]]
            period = timedelta(seconds=stat["Period"])
            first = end - period * len(values)
            out[query["Id"]] = [(first + period * i, v) for i, v in enumerate(values)]
        return out


def scaler(tmp_path: Path, gateway: EcsService, reader: RecordedReader
           ) -> tuple[Autoscaler, Scheduler]:
    """An autoscaler over a scheduler holding the gateway (no process started)."""
    scheduler = Scheduler(Supervisor(tmp_path), ports=range(0), state_dir=tmp_path,
                          say=lambda line: None)
    scheduler.add_service(gateway, ["true"], {})
    return Autoscaler(scheduler, state_dir=tmp_path, time_scale=0.1, target_groups=GROUPS,
                      reader=reader, say=lambda line: None), scheduler


def test_queries_name_the_metrics_as_cloudwatch_has_them(tmp_path: Path,
                                                         gateway: EcsService) -> None:
    """CPU is AWS/ECS CPUUtilization per cluster and service, requests per target per
    target group full name; periods are whole seconds (6 at time scale 0.1)."""
    reader = RecordedReader({"CPUUtilization": [30.0] * 15, "RequestCountPerTarget": [500.0]})
    autoscaler, _ = scaler(tmp_path, gateway, reader)
    autoscaler.evaluate(1_800_000_000.0)
    metrics = {q["MetricStat"]["Metric"]["MetricName"]: q["MetricStat"] for q in reader.queries}
    cpu = metrics["CPUUtilization"]
    assert cpu["Metric"]["Namespace"] == "AWS/ECS" and cpu["Stat"] == "Average"
    assert cpu["Metric"]["Dimensions"] == [{"Name": "ClusterName", "Value": "itinera-dev"},
                                           {"Name": "ServiceName", "Value": "gateway"}]
    requests = metrics["RequestCountPerTarget"]
    assert requests["Metric"]["Dimensions"] == [{"Name": "TargetGroup",
                                                 "Value": GROUPS["GatewayTargetGroup"]}]
    assert {q["MetricStat"]["Period"] for q in reader.queries} == {6}
    assert all(isinstance(q["MetricStat"]["Period"], int) for q in reader.queries)


def test_a_decision_sets_desired_and_is_logged_with_its_reason(
        tmp_path: Path, gateway: EcsService) -> None:
    """CPU at 90% on 3 periods takes the gateway from 2 to 3 tasks, and scaling.jsonl says
    why; the low request policy does not hold a scale-out back."""
    reader = RecordedReader({"CPUUtilization": [90.0] * 3, "RequestCountPerTarget": [10.0]})
    autoscaler, scheduler = scaler(tmp_path, gateway, reader)
    autoscaler.evaluate(1_800_000_000.0)
    assert scheduler.services["gateway"].desired == 3
    (entry,) = [json.loads(line) for line in
                (tmp_path / "run" / "scaling.jsonl").read_text().splitlines()]
    assert (entry["service"], entry["action"], entry["previous"], entry["desired"]) == (
        "gateway", "out", 2, 3)
    assert "gateway-cpu" in entry["reason"]


def test_missing_request_data_keeps_the_capacity(tmp_path: Path, gateway: EcsService) -> None:
    """Low CPU but no RequestCountPerTarget datapoints (no traffic): no scale-in."""
    reader = RecordedReader({"CPUUtilization": [5.0] * 15, "RequestCountPerTarget": []})
    autoscaler, scheduler = scaler(tmp_path, gateway, reader)
    scheduler.set_desired("gateway", 6)
    autoscaler.evaluate(1_800_000_000.0)
    assert scheduler.services["gateway"].desired == 6


def test_requests_per_target_read_as_a_minutes_count(tmp_path: Path,
                                                      gateway: EcsService) -> None:
    """At time scale 0.1 a period lasts 6 s: 150 requests per target in it are 1,500 a
    minute, over the 1,000 target, so the gateway scales out to ceil(2 * 1500 / 1000) = 3;
    the same 150 read as a minute's count would not have scaled."""
    reader = RecordedReader({"CPUUtilization": [5.0] * 15,
                             "RequestCountPerTarget": [150.0] * 3})
    autoscaler, scheduler = scaler(tmp_path, gateway, reader)
    autoscaler.evaluate(1_800_000_000.0)
    assert scheduler.services["gateway"].desired == 3
    (entry,) = [json.loads(line) for line in
                (tmp_path / "run" / "scaling.jsonl").read_text().splitlines()]
    assert entry["datapoints"]["gateway-requests"] == [1500.0] * 3


def test_an_activity_names_the_alarm_and_the_policy(tmp_path: Path,
                                                    gateway: EcsService) -> None:
    """A scale-out is logged as DescribeScalingActivities shows it: the desired count set,
    the AlarmHigh alarm in ALARM that triggered the policy, and its datapoints."""
    reader = RecordedReader({"CPUUtilization": [90.0] * 3, "RequestCountPerTarget": [1.0]})
    autoscaler, _ = scaler(tmp_path, gateway, reader)
    autoscaler.evaluate(1_800_000_000.0)
    (entry,) = [json.loads(line) for line in
                (tmp_path / "run" / "scaling.jsonl").read_text().splitlines()]
    activity = entry["activity"]
    assert activity["ResourceId"] == "service/itinera-dev/gateway"
    assert activity["Description"] == "Setting desired count to 3."
    assert activity["Cause"].startswith(
        "monitor alarm TargetTracking-service/itinera-dev/gateway-AlarmHigh-")
    assert activity["Cause"].endswith("in state ALARM triggered policy gateway-cpu")
    assert json.loads(activity["Details"])["datapoints"] == [90.0] * 3


@pytest.fixture(scope="module")
def notifier() -> EcsService:
    """The notifier service from the real template: CPU and backlog per task."""
    sam = load_sam()
    template = transform(sam, region="eu-west-1", parameters={"Stage": "dev"})
    return ecs_services(template, sam.get("Mappings", {}))["notifier"]


def test_the_backlog_policy_divides_visible_messages_by_running_tasks(
        tmp_path: Path, notifier: EcsService) -> None:
    """The notifier's customized metric is the template's metric math, visible / tasks,
    over the queue's depth and the running task count: 900 messages over 2 tasks is 450 per
    task against a target of 100, so ceil(2 * 450 / 100) = 9 tasks; the queue's name comes
    from the deployed stack's resolver."""
    reader = RecordedReader({"CPUUtilization": [5.0] * 15,
                             "ApproximateNumberOfMessagesVisible": [900.0] * 3,
                             "RunningTaskCount": [2.0] * 3})
    scheduler = Scheduler(Supervisor(tmp_path), ports=range(0), state_dir=tmp_path,
                          say=lambda line: None)
    scheduler.add_service(notifier, ["true"], {})
    resolved: list[Any] = []

    def resolve(value: Any) -> Any:
        resolved.append(value)
        return json.loads(json.dumps(value).replace(
            '{"Fn::GetAtt": ["NotifierQueue", "QueueName"]}', '"itinera-dev-notifications"'))

    Autoscaler(scheduler, state_dir=tmp_path, time_scale=0.1, target_groups=GROUPS,
               reader=reader, resolve=resolve, say=lambda line: None).evaluate(1_800_000_000.0)
    assert scheduler.services["notifier"].desired == 9
    depth = next(q["MetricStat"] for q in reader.queries
                 if q["MetricStat"]["Metric"]["MetricName"].startswith("Approximate"))
    assert depth["Metric"]["Dimensions"] == [{"Name": "QueueName",
                                              "Value": "itinera-dev-notifications"}]
    assert depth["Period"] == 6 and resolved


def test_the_scalable_target_as_registered_bounds_and_suspends(tmp_path: Path,
                                                               gateway: EcsService) -> None:
    """The autoscaler reads the scalable targets each period: with scaling out suspended a
    breach adds nothing; resumed with a maximum of 3 it adds one task, not the 2 the metric
    asks for."""
    write_targets(tmp_path, [scalable_target("itinera-dev", "gateway", low=2, high=10)])
    register(tmp_path, {"ServiceNamespace": "ecs", "ResourceId": "service/itinera-dev/gateway",
                        "ScalableDimension": "ecs:service:DesiredCount",
                        "SuspendedState": {"DynamicScalingOutSuspended": True}})
    reader = RecordedReader({"CPUUtilization": [120.0] * 3, "RequestCountPerTarget": [1.0]})
    autoscaler, scheduler = scaler(tmp_path, gateway, reader)
    autoscaler.evaluate(1_800_000_000.0)
    assert scheduler.services["gateway"].desired == 2
    register(tmp_path, {"ServiceNamespace": "ecs", "ResourceId": "service/itinera-dev/gateway",
                        "ScalableDimension": "ecs:service:DesiredCount", "MaxCapacity": 3,
                        "SuspendedState": {"DynamicScalingOutSuspended": False}})
    autoscaler.evaluate(1_800_000_006.0)
    assert scheduler.services["gateway"].desired == 3
