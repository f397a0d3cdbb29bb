"""The local stack publishes ALB and Lambda metrics as AWS does, percentiles included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from localaws.cloudwatch.alb import alb_names
from localaws.cloudwatch.reader import local_reader
from localaws.config import AZS
from localaws.functions import functions
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import book, find_flight, hold_seats
from tests.waiting import eventually


def _stat(qid: str, namespace: str, name: str, dims: dict[str, str], stat: str
          ) -> dict[str, Any]:
    return {"Id": qid, "MetricStat": {
        "Metric": {"Namespace": namespace, "MetricName": name,
                   "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
        "Period": 60, "Stat": stat}}


async def test_requests_and_bookings_show_up_as_aws_metrics(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """After gateway requests and a booking, moto's CloudWatch has RequestCount for each AZ
    of the gateway's ALB, Invocations of the checkout API and the checkout queue's depth and
    age, and the local reader answers p99 TargetResponseTime from per-request values."""
    # GIVEN the stack's names for the gateway's ALB and the checkout API function
    running = stack.stack
    assert running.deployed is not None
    names = alb_names(running.deployed)["gateway"]
    (api,) = [s.name for s in functions(running.deployed).values() if s.routes]
    queue = {"QueueName": running.deployed.get_att("CheckoutQueue", "QueueName")}
    started = datetime.now(UTC) - timedelta(minutes=1)

    # WHEN a traveller searches (several requests, round robin over both AZs) and books
    for _ in range(6):
        async with http.get(f"{stack.url}/health") as resp:
            assert resp.status == 200
    flight = await find_flight(http, stack.url, seats=1)
    token = stack.token("metrics-traveller")
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    status, _ = await book(http, stack.url, token, hold["id"], "4242424242424242")
    assert status == 202

    # THEN the metrics arrive within a few local periods
    alb = {"LoadBalancer": names.load_balancer, "TargetGroup": names.target_group}
    queries = [*[_stat(az.replace("-", "_"), "AWS/ApplicationELB", "RequestCount",
                       {**alb, "AvailabilityZone": az}, "Sum") for az in AZS],
               _stat("invocations", "AWS/Lambda", "Invocations", {"FunctionName": api}, "Sum"),
               _stat("p99", "AWS/ApplicationELB", "TargetResponseTime", alb, "p99"),
               _stat("depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, "Maximum"),
               _stat("age", "AWS/SQS", "ApproximateAgeOfOldestMessage", queue, "Maximum")]
    reader = local_reader(stack.config.state_dir, stack.config.moto_url, stack.config.region,
                          credentials=running.aws_credentials())

    def published() -> dict[str, Any]:
        got = reader.get_metric_data(queries, started, datetime.now(UTC) + timedelta(minutes=1))
        totals = {key: sum(v for _, v in points) for key, points in got.items()}
        assert (all(totals[az.replace("-", "_")] > 0 for az in AZS)
                and totals["invocations"] >= 1 and got["p99"] and got["depth"]
                and got["age"]), got
        return dict(got)

    got = await eventually(published, within=60, every=0.5, what="the metrics published")
    assert all(0 <= value < 30 for _, value in got["p99"])
