"""EventBridge Scheduler, locally: schedules created through the Scheduler API (moto stores
them) fire on the scaled clock, invoke their target through the AWS API, and send a failed
invocation to their dead-letter queue. The clock is passed in: no test waits for time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from localaws.scheduler.service import LocalScheduler, local_when, read_state

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/scheduler"


def client(service: str, moto_url: str) -> Any:
    """A boto3 client at moto's endpoint, as every tool makes one."""
    return boto3.client(service, endpoint_url=moto_url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


def test_schedules_fire_on_the_scaled_clock_and_failures_go_to_the_dead_letter_queue(
        moto_url: str, tmp_path: Path) -> None:
    """GIVEN an enabled rate(1 minute) schedule sending to a queue, a disabled one, and one
    whose target refuses, at time scale 0.1, WHEN the scheduler ticks at chosen times, THEN
    nothing fires before 6 s, the enabled ones fire after it (the refused one's Input goes to
    its dead-letter queue with the error), the disabled one never, and the state file says
    what is next."""
    sqs, scheduler = client("sqs", moto_url), client("scheduler", moto_url)
    inbox = sqs.create_queue(QueueName="scheduled-inbox")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="scheduled-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    send = "arn:aws:scheduler:::aws-sdk:sqs:sendMessage"
    for name, state, queue in (("every-minute", "ENABLED", inbox),
                               ("switched-off", "DISABLED", inbox),
                               ("refused", "ENABLED", inbox + "-missing")):
        scheduler.create_schedule(
            Name=name, State=state, ScheduleExpression="rate(1 minute)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": send, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": dlq_arn},
                    "Input": json.dumps({"QueueUrl": queue,
                                         "MessageBody": f"{name} <aws.scheduler.execution-id>"})})
    local = LocalScheduler(clients=lambda service: client(service, moto_url),
                           state_dir=tmp_path, scale=0.1)
    t0 = 1_000_000.0
    assert local.tick(now=t0) == []
    assert local.tick(now=t0 + 5.9) == []
    fired = {p.name: p.last_result for p in local.tick(now=t0 + 6.1)}
    assert set(fired) == {"every-minute", "refused"}
    assert fired["every-minute"] == "invoked: sqs:SendMessage"
    assert fired["refused"].startswith("failed: ")
    got = sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"].split()[0] for m in got] == ["every-minute"]
    assert "<aws.scheduler" not in got[0]["Body"]  # the execution id is filled in
    dead = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(dead[0]["Body"])["MessageBody"].startswith("refused ")
    assert dead[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"]
    # The next firing is one scaled minute after this one; the state file says so.
    assert local.tick(now=t0 + 12.0) == []
    assert {p.name for p in local.tick(now=t0 + 12.2)} == {"every-minute", "refused"}
    state = {s["name"]: s for s in read_state(tmp_path)["schedules"]}
    assert local_when(state["every-minute"], now=t0 + 12.2).startswith("in 0:00:0")
    assert state["switched-off"]["last_fired"] is None


def test_a_changed_schedule_is_planned_again_and_a_cron_waits_its_scaled_time(
        moto_url: str, tmp_path: Path) -> None:
    """A weekly cron() is due in its scaled wait (at 0.1, 16.8 h for a week); updating the
    schedule plans it again from the update."""
    sqs, scheduler = client("sqs", moto_url), client("scheduler", moto_url)
    inbox = sqs.create_queue(QueueName="weekly-inbox")["QueueUrl"]
    target = {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": ROLE,
              "Input": json.dumps({"QueueUrl": inbox, "MessageBody": "weekly"})}
    scheduler.create_schedule(Name="weekly", State="ENABLED",
                              ScheduleExpression="cron(0 10 ? * TUE *)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    local = LocalScheduler(clients=lambda service: client(service, moto_url),
                           state_dir=tmp_path, scale=0.1)
    monday_noon = datetime(2026, 12, 7, 12, tzinfo=UTC).timestamp()  # Tuesday 10:00 is 22 h on
    local.tick(now=monday_noon)
    (planned,) = [p for p in local.planned.values() if p.name == "weekly"]
    assert planned.next_local is not None
    assert planned.next_aws == "2026-12-08T10:00:00+00:00"
    assert planned.next_local == monday_noon + 22 * 3600 * 0.1
    scheduler.update_schedule(Name="weekly", State="ENABLED",
                              ScheduleExpression="rate(2 minutes)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target)
    assert "weekly" not in [p.name for p in local.tick(now=monday_noon + 1)]
    assert "weekly" in [p.name for p in local.tick(now=monday_noon + 1 + 12.1)]
