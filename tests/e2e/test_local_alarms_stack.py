"""The local stack evaluates the template's alarms: states in moto, history for reports."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import time
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import RunningStack

# The AZ test needs HealthyHostCount from the metrics pipeline (cloudwatch/, the cw-metrics
# work); until it is in, nothing reports the metric and the alarm cannot move.
PIPELINE = importlib.util.find_spec("itinera.localstack.cloudwatch") is not None


def cloudwatch(stack: RunningStack) -> Any:
    """A CloudWatch client for the stack's emulator, as the operator."""
    env = stack.stack.aws_credentials()
    return boto3.client("cloudwatch", endpoint_url=stack.config.moto_url,
                        region_name=stack.config.region,
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=env.get("AWS_SESSION_TOKEN"))


def state(client: Any, name: str) -> str:
    """Return an alarm's state in moto."""
    return str(client.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


async def until_state(client: Any, name: str, wanted: str, *, within: float) -> None:
    """Poll the alarm's state until it is *wanted*, or fail after *within* seconds."""
    deadline = time.monotonic() + within
    while (current := await asyncio.to_thread(state, client, name)) != wanted:
        assert time.monotonic() < deadline, f"{name} still {current}, not {wanted}"
        await asyncio.sleep(0.5)


async def test_the_stack_evaluates_its_alarms(stack: RunningStack) -> None:
    """Every template alarm is in moto; the DLQ alarm leaves INSUFFICIENT_DATA for OK, the
    history file records it, and a healthy stack's booking path is not in ALARM."""
    client = cloudwatch(stack)
    stage = stack.config.stage
    names = {a["AlarmName"] for page in client.get_paginator("describe_alarms").paginate()
             for a in page["MetricAlarms"]}
    assert {f"itinera-{stage}-booking-path-unhealthy",
            f"itinera-{stage}-gateway-az-a-no-healthy-hosts",
            f"itinera-{stage}-checkout-dlq-not-empty"} <= names
    dlq = f"itinera-{stage}-checkout-dlq-not-empty"
    history = stack.config.state_dir / "run" / "alarm-history.jsonl"

    def evaluated() -> list[dict[str, Any]]:
        lines = history.read_text().splitlines() if history.exists() else []
        return [m for m in map(json.loads, lines) if m["alarm"] == dlq and m["old"]]

    deadline = time.monotonic() + 60
    while not evaluated():
        assert time.monotonic() < deadline, "the DLQ alarm was never evaluated"
        await asyncio.sleep(0.5)
    assert (evaluated()[0]["old"], evaluated()[0]["new"]) == ("INSUFFICIENT_DATA", "OK")
    assert state(client, dlq) == "OK"
    assert state(client, f"itinera-{stage}-booking-path-unhealthy") != "ALARM"


@pytest.mark.skipif(not PIPELINE, reason="needs the metrics pipeline (cloudwatch/reader.py)")
async def test_one_az_without_gateway_tasks_alarms_and_recovers(stack: RunningStack) -> None:
    """Stopping az-a's gateway task moves its healthy-hosts alarm to ALARM and back to OK once
    it answers again; the booking path stays out of ALARM, the other AZ serving."""
    client = cloudwatch(stack)
    name = f"itinera-{stack.config.stage}-gateway-az-a-no-healthy-hosts"
    await until_state(client, name, "OK", within=90)
    pid = stack.stack.supervisor.child("gateway-az-a").process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        await until_state(client, name, "ALARM", within=90)
        assert state(client, f"itinera-{stack.config.stage}-booking-path-unhealthy") != "ALARM"
    finally:
        os.kill(pid, signal.SIGCONT)
    await until_state(client, name, "OK", within=90)
