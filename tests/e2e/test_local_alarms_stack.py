"""The local stack evaluates the template's alarms: states in moto, history for reports."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import boto3

from localaws.ecs.azs import set_az_available
from tests.e2e.conftest import RunningStack
from tests.waiting import eventually


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
    async def reached() -> bool:
        current = await asyncio.to_thread(state, client, name)
        assert current == wanted, f"{name} still {current}"
        return True

    await eventually(reached, within=within, every=0.5, what=f"{name} {wanted}")


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

    await eventually(evaluated, within=60, every=0.5, what="the DLQ alarm evaluated")
    assert (evaluated()[0]["old"], evaluated()[0]["new"]) == ("INSUFFICIENT_DATA", "OK")
    assert state(client, dlq) == "OK"
    assert state(client, f"itinera-{stage}-booking-path-unhealthy") != "ALARM"


async def test_one_az_without_gateway_tasks_alarms_and_recovers(stack: RunningStack) -> None:
    """Losing az-a (its tasks stopped, none placed there) moves the gateway's az-a
    healthy-hosts alarm to ALARM, and back to OK once the AZ returns and tasks rebalance; the
    gateway as a whole keeps healthy hosts (az-b serving), so its outage alarm stays OK."""
    client = cloudwatch(stack)
    name = f"itinera-{stack.config.stage}-gateway-az-a-no-healthy-hosts"
    await until_state(client, name, "OK", within=90)
    set_az_available(stack.config.state_dir, "az-a", False, reason="alarm test")
    try:
        await until_state(client, name, "ALARM", within=90)
        # Not the booking-path composite: tasks stopped mid-request may answer 5xx that an
        # error-rate alarm counts, depending on what else ran; losing hosts is what is tested.
        assert state(client, f"itinera-{stack.config.stage}-gateway-no-healthy-hosts") == "OK"
    finally:
        set_az_available(stack.config.state_dir, "az-a", True)
    await until_state(client, name, "OK", within=90)
    # Leave the shared stack as it was: each service back to one task per AZ.
    for service in ("gateway", "inventory", "notifier"):
        await asyncio.to_thread(stack.stack.scheduler.wait_steady, service)
