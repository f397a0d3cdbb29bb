"""The metrics agent puts log EMF, balancer and queue metrics into moto and the raw store."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import boto3

from itinera.metrics import emf_line
from localaws.cloudwatch.agent import Agent
from localaws.cloudwatch.alb import AlbNames
from localaws.cloudwatch.publish import Publisher
from localaws.cloudwatch.reader import CloudWatchReader, LocalReader
from localaws.cloudwatch.sqs import QueueSampler
from localaws.cloudwatch.store import MetricStore, store_path
from tests.integration.conftest import BalancerFactory
from tests.waiting import eventually

REGION = "eu-west-1"
NAMES = {"gateway": AlbNames(load_balancer="app/itinera-t-PublicAlb/0123456789abcdef",
                             target_group="targetgroup/itinera-t-Gw/fedcba9876543210")}
LB_TG = [{"Name": "LoadBalancer", "Value": NAMES["gateway"].load_balancer},
         {"Name": "TargetGroup", "Value": NAMES["gateway"].target_group}]


def _client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _agent(state_dir: Path, moto_url: str, **kwargs: Any) -> Agent:
    (state_dir / "logs").mkdir(parents=True, exist_ok=True)
    return Agent(state_dir=state_dir, store=MetricStore(store_path(state_dir)),
                 publisher=Publisher(_client("cloudwatch", moto_url)), names=NAMES,
                 period=0.5, **kwargs)


def _stat(qid: str, namespace: str, name: str, dims: list[dict[str, str]], stat: str,
          period: int = 60) -> dict[str, Any]:
    return {"Id": qid, "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name,
                                                 "Dimensions": dims},
                                      "Period": period, "Stat": stat}}


def _window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(minutes=1)


def test_emf_lines_reach_moto_and_the_store(tmp_path: Path, moto_url: str) -> None:
    """EMF written to any log is in moto (Sum) and in the store (p99), dimensions exact."""
    agent = _agent(tmp_path, moto_url)
    log = tmp_path / "logs" / "lambda-CheckoutApiFunction.log"
    durations = [float(v) for v in range(1, 101)]
    with log.open("a") as handle:
        handle.write("not a metric\n")
        handle.write(json.dumps(emf_line("AWS/Lambda", {"Duration": durations},
                                         {"FunctionName": "fn-a"}, unit="Milliseconds")) + "\n")
        handle.write(json.dumps(emf_line("AWS/Lambda", {"Invocations": 1},
                                         {"FunctionName": "fn-b"})) + "\n")
    assert agent.read_logs(time.time()) == 2
    start, end = _window()
    dims = [{"Name": "FunctionName", "Value": "fn-a"}]
    queries = [_stat("total", "AWS/Lambda", "Duration", dims, "Sum"),
               _stat("count", "AWS/Lambda", "Duration", dims, "SampleCount"),
               _stat("p99", "AWS/Lambda", "Duration", dims, "p99"),
               _stat("other", "AWS/Lambda", "Invocations",
                     [{"Name": "FunctionName", "Value": "fn-b"}], "Sum"),
               {"Id": "math", "Expression": "total / count", "ReturnData": True}]
    moto = CloudWatchReader(_client("cloudwatch", moto_url)).get_metric_data(
        queries[:2], start, end)
    assert [v for _, v in moto["total"]] == [5050] and [v for _, v in moto["count"]] == [100]
    local = LocalReader(_client("cloudwatch", moto_url), agent.store).get_metric_data(
        queries, start, end)
    assert [v for _, v in local["p99"]] == [99]
    assert [v for _, v in local["total"]] == [5050]
    assert [v for _, v in local["other"]] == [1]
    assert local["math"] == []


def test_queue_depth_and_age_without_receiving(tmp_path: Path, moto_url: str) -> None:
    """Visible messages and the oldest one's age are published; nothing is received."""
    sqs = _client("sqs", moto_url)
    url = sqs.create_queue(QueueName="metrics-test-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="one")
    sampler = QueueSampler(sqs, {"metrics-test-queue": url}, endpoint_url=moto_url,
                           region=REGION)
    data = {d.name: d for d in sampler.sample(time.time())}
    assert data["ApproximateNumberOfMessagesVisible"].values == (1.0,)
    assert data["ApproximateAgeOfOldestMessage"].values[0] >= 0
    assert data["ApproximateAgeOfOldestMessage"].dimensions == (("QueueName",
                                                                 "metrics-test-queue"),)
    (message,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"


async def test_balancer_metrics_per_az_and_response_time_percentiles(
        balancer: BalancerFactory, moto_url: str) -> None:
    """Requests through HAProxy show up as RequestCount per AZ in moto, and p99 of
    TargetResponseTime comes from the per-request log through the LocalReader."""
    lb = await balancer()
    agent = _agent(lb.state_dir, moto_url, from_end=False)
    agent.sample(time.time())  # the baseline, before any request
    async with aiohttp.ClientSession() as http:
        for _ in range(10):
            async with http.get(lb.url + "/work") as resp:
                assert resp.status == 200
    cloudwatch = _client("cloudwatch", moto_url)
    reader = LocalReader(cloudwatch, agent.store)
    start, end = _window()
    per_az = [_stat(az.replace("-", "_"), "AWS/ApplicationELB", "RequestCount",
                    [*LB_TG, {"Name": "AvailabilityZone", "Value": az}], "Sum")
              for az in ("az-a", "az-b")]
    p99 = _stat("p99", "AWS/ApplicationELB", "TargetResponseTime", LB_TG, "p99")
    count = _stat("n", "AWS/ApplicationELB", "TargetResponseTime", LB_TG, "SampleCount")

    async def counted() -> bool:
        agent.read_logs(time.time())
        agent.sample(time.time())
        got = reader.get_metric_data([*per_az, p99, count], start, end)
        return (sum(v for _, v in got["az_a"]) == 5 and sum(v for _, v in got["az_b"]) == 5
                and sum(v for _, v in got["n"]) == 10)

    await eventually(counted, within=10, what="10 requests counted, 5 per AZ")
    got = reader.get_metric_data([p99], start, end)
    (point,) = got["p99"]
    assert 0 <= point[1] < 1.0
