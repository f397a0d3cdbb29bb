"""One endpoint for every service: moto answers, except where a local stand-in does the work.

A request signed for a routed service (FIS here) reaches the stand-in as the SDK sent it:
method, path, query, body and signature; every other service still reaches moto.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import boto3
import pytest
from aiohttp import web
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "eu-west-1"


@dataclass
class StandIn:
    """A stand-in for FIS that records what reached it."""

    url: str = ""
    seen: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    """An aiohttp app answering two FIS operations, on a free port."""
    found = StandIn()

    async def templates(request: web.Request) -> web.Response:
        found.seen.append({"method": request.method, "path": request.path_qs,
                           "auth": request.headers.get("Authorization", "")})
        return web.json_response({"experimentTemplates": [
            {"id": "EXTstandin", "description": "from the stand-in"}]})

    async def start(request: web.Request) -> web.Response:
        body = await request.json()
        found.seen.append({"method": request.method, "path": request.path_qs, "body": body})
        return web.json_response({"experiment": {
            "id": "EXPstandin", "experimentTemplateId": body["experimentTemplateId"],
            "state": {"status": "initiating"}}})

    app = web.Application()
    app.router.add_get("/experimentTemplates", templates)
    app.router.add_post("/experiments", start)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield found
    await runner.cleanup()


def _client(service: str, moto_url: str) -> Any:
    return boto3.client(service, endpoint_url=moto_url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}))


async def _route(moto_url: str, service: str, url: str | None) -> dict[str, str]:
    async with aiohttp.ClientSession() as http, http.post(
            f"{moto_url}/moto-api/itinera/routes",
            json={"service": service, "url": url}) as resp:
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


async def test_a_routed_service_reaches_its_stand_in_and_the_rest_reach_moto(
        moto_url: str, stand_in: StandIn) -> None:
    """GIVEN FIS routed to a stand-in, WHEN the SDK lists templates and starts an experiment
    at moto's endpoint, THEN the stand-in answers both (the signature and the JSON body
    arrive as sent), SQS is still moto's, and once the route is removed FIS is moto's again."""
    fis, sqs = _client("fis", moto_url), _client("sqs", moto_url)

    async def templates() -> list[dict[str, Any]]:
        # In a thread: the stand-in answers on this test's event loop.
        return list((await asyncio.to_thread(fis.list_experiment_templates))
                    ["experimentTemplates"])

    assert await templates() == []  # moto's own
    assert await _route(moto_url, "fis", stand_in.url) == {"fis": stand_in.url}
    try:
        listed = await templates()
        assert [t["description"] for t in listed] == ["from the stand-in"]
        started = await asyncio.to_thread(fis.start_experiment,
                                          experimentTemplateId="EXTstandin",
                                          tags={"Name": "routed"})
        assert started["experiment"]["id"] == "EXPstandin"
        assert stand_in.seen[0]["method"] == "GET"
        assert "/fis/aws4_request" in stand_in.seen[0]["auth"]
        assert stand_in.seen[1]["body"]["experimentTemplateId"] == "EXTstandin"
        assert stand_in.seen[1]["body"]["tags"] == {"Name": "routed"}
        queue = sqs.create_queue(QueueName="still-moto")["QueueUrl"]
        assert sqs.get_queue_url(QueueName="still-moto")["QueueUrl"] == queue
        assert len(stand_in.seen) == 2
    finally:
        assert await _route(moto_url, "fis", None) == {}
    assert await templates() == []


async def test_a_stand_in_that_is_down_is_a_503_and_bad_routes_are_refused(
        moto_url: str) -> None:
    """A route to a port nothing listens on answers 503 (the SDK's retryable kind) naming
    the stand-in; a route that is not an http URL, or not JSON, is a 400 that changes
    nothing."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    await _route(moto_url, "fis", closed)
    try:
        with pytest.raises(ClientError) as refused:
            _client("fis", moto_url).list_experiment_templates()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert closed in json.dumps(refused.value.response)
    finally:
        await _route(moto_url, "fis", None)
    async with aiohttp.ClientSession() as http:
        for body in ({"service": "fis", "url": "file:///etc/passwd"}, {"url": closed}):
            async with http.post(f"{moto_url}/moto-api/itinera/routes", json=body) as resp:
                assert resp.status == 400
        async with http.post(f"{moto_url}/moto-api/itinera/routes", data=b"{no") as resp:
            assert resp.status == 400
        async with http.get(f"{moto_url}/moto-api/itinera/routes") as resp:
            assert await resp.json() == {}


def test_alarm_history_is_answered_from_the_states_moto_keeps(moto_url: str) -> None:
    """DescribeAlarmHistory, which moto lacks: each state change of an alarm (not its
    creation, not a state set again), newest first, filtered by name and time, paged."""
    from datetime import UTC, datetime, timedelta

    cloudwatch = _client("cloudwatch", moto_url)
    for name in ("history-a", "history-b"):
        cloudwatch.put_metric_alarm(
            AlarmName=name, Namespace="Itinera/Test", MetricName="m", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1.0,
            ComparisonOperator="GreaterThanThreshold")
    for state in ("INSUFFICIENT_DATA", "OK", "ALARM", "ALARM", "OK"):
        cloudwatch.set_alarm_state(AlarmName="history-a", StateValue=state,
                                   StateReason=f"now {state}")
    cloudwatch.set_alarm_state(AlarmName="history-b", StateValue="ALARM", StateReason="b")
    now = datetime.now(UTC)
    found = cloudwatch.describe_alarm_history(
        AlarmName="history-a", HistoryItemType="StateUpdate",
        StartDate=now - timedelta(minutes=5), EndDate=now + timedelta(minutes=1))
    items = found["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in items] == [
        "Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK"]
    assert json.loads(items[0]["HistoryData"])["newState"] == {"stateValue": "OK",
                                                               "stateReason": "now OK"}
    assert items[0]["Timestamp"] >= items[1]["Timestamp"] >= items[2]["Timestamp"]
    ascending = cloudwatch.describe_alarm_history(AlarmName="history-a",
                                                  ScanBy="TimestampAscending")
    assert ascending["AlarmHistoryItems"] == items[::-1]
    assert cloudwatch.describe_alarm_history(
        AlarmName="history-a", EndDate=now - timedelta(minutes=5))["AlarmHistoryItems"] == []
    pages = list(cloudwatch.get_paginator("describe_alarm_history").paginate(
        PaginationConfig={"PageSize": 2}))
    names = [i["AlarmName"] for p in pages for i in p["AlarmHistoryItems"]]
    assert sorted(names) == ["history-a"] * 3 + ["history-b"] and len(pages) == 2


def test_event_rules_deliver_to_topics_and_match_inside_arrays(moto_url: str) -> None:
    """An EventBridge rule with an SNS topic target publishes the matching event to the
    topic (moto delivers to queues only), its other targets still get it, and a pattern on a
    field of an array of objects (a task's containers' exit codes) matches as EventBridge's
    does."""
    events, sns, sqs = (_client(s, moto_url) for s in ("events", "sns", "sqs"))
    topic = sns.create_topic(Name="ops-events")["TopicArn"]
    inboxes = {}
    for name in ("ops-events-inbox", "direct-inbox"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        inboxes[name] = (url, sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inboxes["ops-events-inbox"][1])
    events.put_rule(Name="runner-failed", EventPattern=json.dumps({
        "source": ["aws.ecs"], "detail": {"lastStatus": ["STOPPED"],
                                          "containers": {"exitCode": [{"anything-but": 0}]}}}))
    events.put_targets(Rule="runner-failed", Targets=[
        {"Id": "topic", "Arn": topic}, {"Id": "queue", "Arn": inboxes["direct-inbox"][1]}])
    for code in (0, 3):
        events.put_events(Entries=[{
            "Source": "aws.ecs", "DetailType": "ECS Task State Change",
            "Detail": json.dumps({"lastStatus": "STOPPED",
                                  "containers": [{"name": "sidecar", "exitCode": 0},
                                                 {"name": "runner", "exitCode": code}]})}])
    published = sqs.receive_message(QueueUrl=inboxes["ops-events-inbox"][0],
                                    MaxNumberOfMessages=10)["Messages"]
    (event,) = [json.loads(json.loads(m["Body"])["Message"]) for m in published]
    assert [c["exitCode"] for c in event["detail"]["containers"]] == [0, 3]
    direct = sqs.receive_message(QueueUrl=inboxes["direct-inbox"][0],
                                 MaxNumberOfMessages=10)["Messages"]
    assert len(direct) == 1
