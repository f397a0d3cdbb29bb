"""FIS's API, locally: the SDK's calls at moto's endpoint start experiments that really run.

The stand-in (localaws/fis/service.py) serves on this test's event loop; moto's server routes
every request signed for `fis` to it, and its stop conditions read moto's CloudWatch. The
actions here are `aws:fis:wait`, which needs no stack; what each other action does to the
stack is tests/e2e/test_gameday.py's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest
from aiohttp import web
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.fis.service import Fis, application
from tests.waiting import eventually

REGION = "eu-west-1"
ALARM = "itinera-fis-test-booking-path-unhealthy"
ALARM_ARN = f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{ALARM}"


class NoEffects:
    """The stack's levers, which a wait never pulls: any call fails the test."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a wait pulled the stack's lever {name}")


def client(service: str, moto_url: str) -> Any:
    """A boto3 client at moto's endpoint, as every tool makes one."""
    return boto3.client(service, endpoint_url=moto_url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
async def fis(moto_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """The FIS stand-in, routed from moto's endpoint; yields a boto3 FIS client."""
    cloudwatch = client("cloudwatch", moto_url)
    service = Fis(region=REGION, scale=0.01, state_dir=tmp_path,
                  effects=lambda _session: NoEffects(),  # type: ignore[arg-type,return-value]
                  cloudwatch=cloudwatch, s3=client("s3", moto_url),
                  logs=client("logs", moto_url), poll_s=0.1)
    runner = web.AppRunner(application(service), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{moto_url}/moto-api/itinera/routes",
                             json={"service": "fis", "url": f"http://127.0.0.1:{port}"}):
            pass
        try:
            yield client("fis", moto_url)
        finally:
            async with http.post(f"{moto_url}/moto-api/itinera/routes",
                                 json={"service": "fis", "url": None}):
                pass
            await runner.cleanup()


async def call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Call the SDK off this loop (the stand-in answers on it)."""
    return await asyncio.to_thread(method, **kwargs)


def template(*, stop: bool = False, **actions: dict[str, Any]) -> dict[str, Any]:
    """A CreateExperimentTemplate request of wait actions."""
    return {"description": "waits", "roleArn": "arn:aws:iam::123456789012:role/fis",
            "actions": {name: {"actionId": "aws:fis:wait", **spec}
                        for name, spec in actions.items()},
            "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": ALARM_ARN}]
            if stop else [{"source": "none"}], "tags": {"Name": "waits"}}


async def ended(fis: Any, experiment_id: str, within: float = 30) -> dict[str, Any]:
    """Wait until the experiment reaches an end state; return it."""

    async def state() -> dict[str, Any] | None:
        found = (await call(fis.get_experiment, id=experiment_id))["experiment"]
        return found if found["state"]["status"] in (
            "completed", "stopped", "failed", "cancelled") else None

    return await eventually(state, within=within, what=f"experiment {experiment_id} ended")


async def test_an_experiment_runs_its_actions_in_start_after_order_and_completes(
        fis: Any) -> None:
    """GIVEN a template whose second wait starts after the first, WHEN it is started through
    the SDK, THEN it is listed, runs, and completes, each action completed, the second
    starting after the first ended."""
    created = (await call(fis.create_experiment_template, **template(
        first={"parameters": {"duration": "PT1S"}},
        second={"parameters": {"duration": "PT1S"}, "startAfter": ["first"]})))
    template_id = created["experimentTemplate"]["id"]
    listed = (await call(fis.list_experiment_templates))["experimentTemplates"]
    assert template_id in [t["id"] for t in listed]
    started = (await call(fis.start_experiment, experimentTemplateId=template_id,
                          tags={"Name": "run"}))["experiment"]
    assert started["state"]["status"] in ("initiating", "running")
    assert started["id"] in [e["id"] for e in
                             (await call(fis.list_experiments))["experiments"]]
    done = await ended(fis, started["id"])
    assert done["state"]["status"] == "completed", done["state"]
    first, second = done["actions"]["first"], done["actions"]["second"]
    assert first["state"]["status"] == second["state"]["status"] == "completed"
    assert second["startTime"] >= first["endTime"]
    assert done["endTime"] >= second["endTime"]


async def test_a_dry_run_skips_every_action(fis: Any) -> None:
    """`actionsMode` skip-all resolves the experiment and completes it with every action
    skipped (NoEffects would fail on any lever pulled)."""
    template_id = (await call(fis.create_experiment_template, **template(
        only={"parameters": {"duration": "PT10M"}})))["experimentTemplate"]["id"]
    started = (await call(fis.start_experiment, experimentTemplateId=template_id,
                          experimentOptions={"actionsMode": "skip-all"}))["experiment"]
    done = await ended(fis, started["id"], within=10)
    assert done["state"]["status"] == "completed"
    assert done["actions"]["only"]["state"]["status"] == "skipped"
    assert done["experimentOptions"]["actionsMode"] == "skip-all"


async def test_stop_experiment_stops_the_running_action_and_cancels_the_rest(
        fis: Any) -> None:
    """StopExperiment while the first of two waits runs: the experiment ends `stopped` (by
    the user), the running action `stopped`, the one that never started `cancelled`; a
    second stop is refused."""
    template_id = (await call(fis.create_experiment_template, **template(
        long={"parameters": {"duration": "PT1H"}},
        after={"parameters": {"duration": "PT1S"}, "startAfter": ["long"]})))[
        "experimentTemplate"]["id"]
    experiment_id = (await call(fis.start_experiment, experimentTemplateId=template_id))[
        "experiment"]["id"]

    async def long_running() -> bool:
        found = (await call(fis.get_experiment, id=experiment_id))["experiment"]
        return bool(found["actions"]["long"]["state"]["status"] == "running")

    await eventually(long_running, within=10, what="the long wait running")
    stopping = (await call(fis.stop_experiment, id=experiment_id))["experiment"]
    assert stopping["state"]["status"] in ("stopping", "stopped")
    done = await ended(fis, experiment_id, within=10)
    assert done["state"] == {"status": "stopped", "reason": "Experiment stopped by user."}
    assert done["actions"]["long"]["state"]["status"] == "stopped"
    assert done["actions"]["after"]["state"]["status"] == "cancelled"
    with pytest.raises(ClientError) as refused:
        await call(fis.stop_experiment, id=experiment_id)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


async def test_a_stop_condition_alarm_stops_the_experiment_or_keeps_it_from_starting(
        fis: Any, moto_url: str) -> None:
    """The template's CloudWatch alarm going into ALARM mid-run stops the experiment, naming
    the alarm; started again while the alarm is still in ALARM, it fails at once."""
    cloudwatch = client("cloudwatch", moto_url)
    cloudwatch.put_metric_alarm(AlarmName=ALARM, MetricName="Errors", Namespace="Test",
                                Statistic="Sum", Period=60, EvaluationPeriods=1,
                                Threshold=1, ComparisonOperator="GreaterThanThreshold")
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="test")
    template_id = (await call(fis.create_experiment_template, **template(
        stop=True, long={"parameters": {"duration": "PT1H"}})))["experimentTemplate"]["id"]
    experiment_id = (await call(fis.start_experiment, experimentTemplateId=template_id))[
        "experiment"]["id"]

    async def running() -> bool:
        found = (await call(fis.get_experiment, id=experiment_id))["experiment"]
        return bool(found["actions"]["long"]["state"]["status"] == "running")

    await eventually(running, within=10, what="the wait running")
    cloudwatch.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="test")
    done = await ended(fis, experiment_id, within=10)
    assert done["state"]["status"] == "stopped"
    assert ALARM in done["state"]["reason"]
    again = (await call(fis.start_experiment, experimentTemplateId=template_id))["experiment"]
    failed = await ended(fis, again["id"], within=10)
    assert failed["state"]["status"] == "failed" and ALARM in failed["state"]["reason"]
    assert failed["actions"]["long"]["state"]["status"] == "cancelled"


async def test_bad_requests_are_fis_errors_and_tokens_make_starts_idempotent(
        fis: Any) -> None:
    """Unknown ids are ResourceNotFoundException; an actionsMode FIS does not know, a
    template naming a target it lacks, or local overrides that are not JSON, is a
    ValidationException; the same clientToken starts one experiment."""
    for method, kwargs in ((fis.get_experiment, {"id": "EXPnope"}),
                           (fis.get_experiment_template, {"id": "EXTnope"}),
                           (fis.start_experiment, {"experimentTemplateId": "EXTnope"})):
        with pytest.raises(ClientError) as refused:
            await call(method, **kwargs)
        assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    bad = template(stop=False, stray={"parameters": {"duration": "PT1S"},
                                      "targets": {"Tasks": "nowhere"}})
    with pytest.raises(ClientError) as refused:
        await call(fis.create_experiment_template, **bad)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    unreadable = {**template(only={"parameters": {"duration": "PT1S"}}),
                  "tags": {"itinera:local": "{not json"}}
    with pytest.raises(ClientError) as refused:
        await call(fis.create_experiment_template, **unreadable)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    template_id = (await call(fis.create_experiment_template, **template(
        only={"parameters": {"duration": "PT1S"}})))["experimentTemplate"]["id"]
    with pytest.raises(ClientError) as refused:
        await call(fis.start_experiment, experimentTemplateId=template_id,
                   experimentOptions={"actionsMode": "some"})
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    first = await call(fis.start_experiment, experimentTemplateId=template_id,
                       clientToken="same")
    second = await call(fis.start_experiment, experimentTemplateId=template_id,
                        clientToken="same")
    assert first["experiment"]["id"] == second["experiment"]["id"]
    await ended(fis, first["experiment"]["id"])


async def test_the_experiment_log_goes_to_its_s3_and_cloudwatch_destinations(
        fis: Any, moto_url: str) -> None:
    """A template with S3 and CloudWatch Logs log configurations gets the experiment's log
    in both when it ends, in FIS's schema version 2: its start, each action's start and end
    (in order, with its state), and its end with the final state."""
    s3, logs = client("s3", moto_url), client("logs", moto_url)
    s3.create_bucket(Bucket="fis-logs", CreateBucketConfiguration={
        "LocationConstraint": REGION})
    logs.create_log_group(logGroupName="/itinera/test/fis")
    group_arn = f"arn:aws:logs:{REGION}:123456789012:log-group:/itinera/test/fis:*"
    request = {**template(first={"parameters": {"duration": "PT1S"}},
                          second={"parameters": {"duration": "PT1S"}, "startAfter": ["first"]}),
               "logConfiguration": {"logSchemaVersion": 2, "s3Configuration": {
                   "bucketName": "fis-logs", "prefix": "logs/waits"},
                   "cloudWatchLogsConfiguration": {"logGroupArn": group_arn}}}
    template_id = (await call(fis.create_experiment_template, **request))[
        "experimentTemplate"]["id"]
    experiment_id = (await call(fis.start_experiment, experimentTemplateId=template_id))[
        "experiment"]["id"]
    await ended(fis, experiment_id)

    # Delivered before the end is visible: whoever sees the experiment ended finds its log.
    found = s3.list_objects_v2(Bucket="fis-logs", Prefix="logs/waits/AWSLogs/")
    keys = [o["Key"] for o in found.get("Contents", []) if experiment_id in o["Key"]]
    assert len(keys) == 1
    assert keys[0].startswith(f"logs/waits/AWSLogs/123456789012/fis/{REGION}/")
    body = s3.get_object(Bucket="fis-logs", Key=keys[0])["Body"].read().decode()
    records = [json.loads(line) for line in body.splitlines()]
    assert {(r["id"], r["version"]) for r in records} == {(experiment_id, "2")}
    assert [(r["log_type"], r["details"].get("action_name")) for r in records] == [
        ("experiment-start", None), ("action-start", "first"), ("action-end", "first"),
        ("action-start", "second"), ("action-end", "second"), ("experiment-end", None)]
    assert records[2]["details"]["action_state"]["status"] == "completed"
    assert records[-1]["details"]["experiment_state"]["status"] == "completed"
    events = logs.get_log_events(logGroupName="/itinera/test/fis",
                                 logStreamName=experiment_id, startFromHead=True)["events"]
    assert [json.loads(e["message"]) for e in events] == records


async def test_abort_stops_every_running_experiment_and_only_those(fis: Any) -> None:
    """`itinera gameday abort` (chaos.gameday.fis.abort): every experiment still running is
    stopped through StopExperiment, one already ended is left alone, and a second abort
    finds nothing to stop."""
    from chaos.gameday.fis import abort

    long_id = (await call(fis.create_experiment_template, **template(
        long={"parameters": {"duration": "PT1H"}})))["experimentTemplate"]["id"]
    dry_id = (await call(fis.create_experiment_template, **template(
        short={"parameters": {"duration": "PT1S"}})))["experimentTemplate"]["id"]
    finished = (await call(fis.start_experiment, experimentTemplateId=dry_id,
                           experimentOptions={"actionsMode": "skip-all"}))["experiment"]["id"]
    await ended(fis, finished)
    running = [(await call(fis.start_experiment, experimentTemplateId=long_id))[
        "experiment"]["id"] for _ in range(2)]
    assert sorted(await asyncio.to_thread(abort, fis)) == sorted(running)
    for experiment_id in running:
        assert (await ended(fis, experiment_id, within=10))["state"]["status"] == "stopped"
    assert (await call(fis.get_experiment, id=finished))["experiment"]["state"][
        "status"] == "completed"
    assert await asyncio.to_thread(abort, fis) == []
