"""The local Lambda host fails and delays invocations as the FIS extension does, from S3."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from itinera.aws import BOTO_CONFIG, session
from localaws.functions import FunctionSpec
from localaws.lambda_faults import (
    DELAY,
    ERROR,
    Fault,
    FaultWatch,
    InjectedFault,
    settings_object,
)
from localaws.lambda_invoker import Invoker
from localaws.processes import wait_http
from tests.integration.conftest import free_port
from tests.waiting import eventually

BUCKET = "itinera-test-fis-config"
KEY = "FisConfigs/worker.json"
CALLS: list[str] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Record the call and answer; the function the faults are injected into."""
    CALLS.append(context.aws_request_id)
    return {"ok": True}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """Run a moto server of our own, as the local stack does."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/", child=None)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
async def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """An S3 client on the emulator with the FIS configuration bucket."""
    for name, value in {"AWS_ENDPOINT_URL": moto_url, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    async with session().client("s3", config=BOTO_CONFIG, region_name="eu-west-1") as client:
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            await client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={
                "LocationConstraint": "eu-west-1"})
        yield client


def _invoker() -> Invoker:
    spec = FunctionSpec(name="worker", handler=f"{__name__}.handler", timeout=5, memory=128,
                        environment={}, concurrency=2)
    return Invoker(spec, "eu-west-1")


async def test_settings_in_s3_fail_and_delay_invocations_until_removed(s3: Any) -> None:
    """Error settings fail every call without running it; delay settings slow it; none: normal."""
    invoker = _invoker()
    invoker.faults = FaultWatch(s3, BUCKET, KEY)
    try:
        # GIVEN no settings object: invocations run normally
        await invoker.faults.refresh()
        CALLS.clear()
        assert await invoker.invoke({}) == {"ok": True}
        assert len(CALLS) == 1

        # WHEN the executor writes an invocation-error fault (prevent execution)
        until = time.time() + 60
        await s3.put_object(Bucket=BUCKET, Key=KEY, Body=settings_object(
            [Fault(action=ERROR, percentage=100, until=until)]))
        await invoker.faults.refresh()
        # THEN the call fails and the handler never ran
        with pytest.raises(InjectedFault):
            await invoker.invoke({})
        assert len(CALLS) == 1

        # WHEN it replaces it with a 300 ms delay
        await s3.put_object(Bucket=BUCKET, Key=KEY, Body=settings_object(
            [Fault(action=DELAY, percentage=100, until=until, delay_ms=300)]))
        await invoker.faults.refresh()
        started = time.monotonic()
        assert await invoker.invoke({}) == {"ok": True}
        # THEN the call waited at least the delay (a lower bound only: the machine may be slow)
        assert time.monotonic() - started >= 0.3

        # WHEN the settings are removed (the experiment's rollback), calls are normal again
        await s3.delete_object(Bucket=BUCKET, Key=KEY)
        await invoker.faults.refresh()
        assert invoker.faults.faults == []
        assert await invoker.invoke({}) == {"ok": True}
        assert len(CALLS) == 3
    finally:
        invoker.close()


async def test_the_watch_picks_up_new_settings_by_itself(s3: Any) -> None:
    """The poller sees a settings object written while it runs, within a few polls."""
    watch = FaultWatch(s3, BUCKET, "FisConfigs/api.json")
    stop = asyncio.Event()
    task = asyncio.create_task(watch.run(stop))
    try:
        await s3.put_object(Bucket=BUCKET, Key="FisConfigs/api.json", Body=settings_object(
            [Fault(action=ERROR, percentage=100, until=time.time() + 60)]))
        await eventually(lambda: watch.decision().fail, within=10,
                         what="the poller read the settings")
    finally:
        stop.set()
        await task
