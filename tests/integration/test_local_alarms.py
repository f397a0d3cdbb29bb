"""The local alarm evaluator against a real moto server: states, SNS notifications, history."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from localaws.alarms.install import install
from localaws.alarms.runner import AlarmRunner, history_path, status
from localaws.cloudwatch.reader import CloudWatchReader
from localaws.resources import deploy
from localaws.template import load_sam, transform
from tests.integration.conftest import free_port
from tests.waiting import eventually_sync

REGION = "eu-west-1"
PERIOD = 2  # what a 60 s period lasts under the tests' time scale


def scale(aws_seconds: float) -> float:
    """The tests' time scale: 60 s of CloudWatch time lasts 2 s."""
    return aws_seconds * PERIOD / 60


@pytest.fixture
def moto_url() -> Iterator[str]:
    """A moto server of this test's own."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    client = boto3.client("sts", endpoint_url=url, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")

    def answers() -> bool:
        try:
            client.get_caller_identity()
        except Exception:
            return False
        return True

    eventually_sync(answers, within=30, every=0.1, what="the moto server answered")
    yield url
    process.terminate()
    process.wait(10)


def clients(url: str) -> dict[str, Any]:
    """boto3 clients for moto."""
    return {name: boto3.client(name, endpoint_url=url, region_name=REGION,
                               aws_access_key_id="testing", aws_secret_access_key="testing")
            for name in ("cloudwatch", "sns", "sqs", "cloudformation")}


def subscribed_queue(aws: dict[str, Any], topic_arn: str) -> str:
    """Return the URL of a new queue subscribed to *topic_arn*."""
    url = aws["sqs"].create_queue(QueueName=f"alarms-{time.monotonic_ns()}")["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def notifications(aws: dict[str, Any], queue_url: str, count: int) -> list[dict[str, Any]]:
    """Return *count* alarm notifications from the queue, polling with a deadline."""
    return notifications_until(aws, queue_url, lambda got: len(got) >= count)


def notifications_until(aws: dict[str, Any], queue_url: str,
                        done: Callable[[list[dict[str, Any]]], bool]) -> list[dict[str, Any]]:
    """Return the alarm notifications received until *done* holds for them, or fail."""
    out: list[dict[str, Any]] = []

    def received() -> bool:
        answer = aws["sqs"].receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            out.append(json.loads(json.loads(message["Body"])["Message"]))
            aws["sqs"].delete_message(QueueUrl=queue_url,
                                      ReceiptHandle=message["ReceiptHandle"])
        assert done(out), f"not there in {len(out)} notifications: {out}"
        return True

    # The receive itself long-polls for a second: no pause between polls is needed.
    eventually_sync(received, within=15, every=0, what="the alarm notifications")
    return out


def state_of(aws: dict[str, Any], name: str) -> str:
    """Return an alarm's state as moto holds it."""
    return str(aws["cloudwatch"].describe_alarms(AlarmNames=[name])["MetricAlarms"][0][
        "StateValue"])


def period_start() -> datetime:
    """Return the start of a recent local period (on a period boundary)."""
    epoch = int(time.time()) // PERIOD * PERIOD - 60
    return datetime.fromtimestamp(epoch, UTC)


def test_an_alarm_goes_from_insufficient_data_to_alarm_and_back_with_notifications(
        moto_url: str, tmp_path: Path) -> None:
    """A DLQ alarm starts INSUFFICIENT_DATA, alarms on a message, recovers, and says so by SNS."""
    aws = clients(moto_url)
    topic = aws["sns"].create_topic(Name="alarms")["TopicArn"]
    queue = subscribed_queue(aws, topic)
    dims = [{"Name": "QueueName", "Value": "checkout-dlq"}]
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="dlq-not-empty", Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible", Dimensions=dims,
        Statistic="Maximum", Period=60, EvaluationPeriods=1, Threshold=0,
        ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching",
        AlarmActions=[topic], OKActions=[topic])
    runner = AlarmRunner(cloudwatch=aws["cloudwatch"], sns=aws["sns"],
                         reader=CloudWatchReader(aws["cloudwatch"]), state_dir=tmp_path,
                         region=REGION, scale=scale, say=lambda _: None)
    # GIVEN a started evaluator
    assert runner.start() == 1
    assert state_of(aws, "dlq-not-empty") == "INSUFFICIENT_DATA"
    start = period_start()
    # WHEN the first period has no data (notBreaching), then one holds a message, then none
    assert [c.new for c in runner.tick(start)] == ["OK"]
    aws["cloudwatch"].put_metric_data(Namespace="AWS/SQS", MetricData=[{
        "MetricName": "ApproximateNumberOfMessagesVisible", "Dimensions": dims,
        "Timestamp": start + timedelta(seconds=0.5), "Value": 3}])
    assert [c.new for c in runner.tick(start + timedelta(seconds=PERIOD))] == ["ALARM"]
    assert state_of(aws, "dlq-not-empty") == "ALARM"
    assert runner.tick(start + timedelta(seconds=PERIOD + 0.5)) == []
    assert [c.new for c in runner.tick(start + timedelta(seconds=2 * PERIOD))] == ["OK"]
    # THEN moto holds each state, SNS carried CloudWatch's notifications, history has each
    assert state_of(aws, "dlq-not-empty") == "OK"
    sent = notifications(aws, queue, 3)
    assert [(n["OldStateValue"], n["NewStateValue"]) for n in sent] == [
        ("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]
    assert sent[1]["AlarmName"] == "dlq-not-empty"
    assert sent[1]["Trigger"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert "1 out of the last 1 datapoints [3" in sent[1]["NewStateReason"]
    reason_data = json.loads(aws["cloudwatch"].describe_alarms(AlarmNames=["dlq-not-empty"])[
        "MetricAlarms"][0]["StateReasonData"])
    assert reason_data["threshold"] == 0
    lines = [json.loads(line) for line in history_path(tmp_path).read_text().splitlines()]
    assert [(h["old"], h["new"]) for h in lines] == [
        (None, "INSUFFICIENT_DATA"), ("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"),
        ("ALARM", "OK")]
    report = status(tmp_path)
    assert report["alarms"]["dlq-not-empty"]["state"] == "OK"
    assert report["in_alarm"] == []


def test_the_template_alarms_run_locally_and_the_composite_follows_an_outage(
        moto_url: str, tmp_path: Path) -> None:
    """The template's alarms install in moto; no healthy gateway host trips booking-path."""
    aws = clients(moto_url)
    template = transform(load_sam(), region=REGION,
                         parameters={"Stage": "dev", "InventoryUrl": "http://127.0.0.1:1"})
    deployed = deploy(template, cloudformation=aws["cloudformation"], sns=aws["sns"],
                      sqs=aws["sqs"], stack_name="itinera-dev", region=REGION)
    names = install(deployed, aws["cloudwatch"], tmp_path)
    assert "itinera-dev-booking-path-unhealthy" in names
    assert "itinera-dev-gateway-az-a-no-healthy-hosts" in names
    queue = subscribed_queue(aws, deployed.ref("AlarmsTopic"))
    runner = AlarmRunner(cloudwatch=aws["cloudwatch"], sns=aws["sns"],
                         reader=CloudWatchReader(aws["cloudwatch"]), state_dir=tmp_path,
                         region=REGION, scale=scale, say=lambda _: None)
    runner.start()
    composite = "itinera-dev-booking-path-unhealthy"
    outage = "itinera-dev-gateway-no-healthy-hosts"
    assert state_of(aws, composite) == "INSUFFICIENT_DATA"
    alarm = aws["cloudwatch"].describe_alarms(AlarmNames=[outage])["MetricAlarms"][0]
    start = period_start()

    def healthy(count: float, period: int) -> None:
        aws["cloudwatch"].put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[{
            "MetricName": "HealthyHostCount", "Dimensions": alarm["Dimensions"],
            "Timestamp": start + timedelta(seconds=period * PERIOD + 0.5), "Value": count}])

    # GIVEN two healthy periods, WHEN two periods have no healthy host, THEN ALARM
    healthy(2, 0)
    healthy(2, 1)
    runner.tick(start + timedelta(seconds=2 * PERIOD))
    assert state_of(aws, outage) == "OK"
    assert state_of(aws, composite) == "OK"
    healthy(0, 2)
    healthy(0, 3)
    runner.tick(start + timedelta(seconds=4 * PERIOD))
    assert state_of(aws, outage) == "ALARM"
    assert state_of(aws, composite) == "ALARM"
    assert status(tmp_path)["in_alarm"] == [composite, outage]
    # AND recovery brings both back to OK
    healthy(2, 4)
    healthy(2, 5)
    runner.tick(start + timedelta(seconds=6 * PERIOD))
    assert state_of(aws, composite) == "OK"
    sent = notifications_until(aws, queue, lambda got: [
        n["NewStateValue"] for n in got if n["AlarmName"] == composite] == ["OK", "ALARM", "OK"])
    alarmed = next(n for n in sent
                   if n["AlarmName"] == composite and n["NewStateValue"] == "ALARM")
    assert alarmed["TriggeringChildren"][0]["Arn"].endswith(f":alarm:{outage}")
    assert alarmed["AlarmRule"].startswith(f'ALARM("{outage}")')
