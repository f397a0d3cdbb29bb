"""The local Lambda host prints AWS/Lambda metrics for each invocation, as Lambda publishes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from localaws.cloudwatch.emf import parse_line
from localaws.functions import FunctionSpec
from localaws.lambda_invoker import Invoker, Throttled
from tests.waiting import eventually

RELEASE = threading.Event()


def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that answers at once."""
    return {"statusCode": 200}


def broken(event: dict[str, Any], context: Any) -> None:
    """A handler that raises."""
    raise ValueError("boom")


def held(event: dict[str, Any], context: Any) -> None:
    """A handler that runs until the test releases it."""
    RELEASE.wait(5)


def _spec(handler: str, concurrency: int | None = None) -> FunctionSpec:
    return FunctionSpec(name="CheckoutApiFunction", handler=f"{__name__}.{handler}", timeout=5,
                        memory=128, environment={}, concurrency=concurrency)


def _metrics(out: str) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for line in out.splitlines():
        for datum in parse_line(line):
            assert datum.namespace == "AWS/Lambda"
            assert datum.dimensions == (("FunctionName", "CheckoutApiFunction"),)
            found.setdefault(datum.name, []).extend(datum.values)
    return found


async def test_each_invocation_prints_its_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    """An invocation counts once, with its duration in ms and the concurrency it ran at."""
    invoker = Invoker(_spec("ok"), "eu-west-1")
    await invoker.invoke({})
    invoker.close()
    found = _metrics(capsys.readouterr().out)
    assert found["Invocations"] == [1] and found["Errors"] == [0]
    assert found["ConcurrentExecutions"] == [1]
    assert len(found["Duration"]) == 1 and 0 <= found["Duration"][0] < 5000


async def test_a_raising_handler_counts_as_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """When the handler raises, the invocation still counts, and Errors is 1."""
    invoker = Invoker(_spec("broken"), "eu-west-1")
    with pytest.raises(ValueError, match="boom"):
        await invoker.invoke({})
    invoker.close()
    found = _metrics(capsys.readouterr().out)
    assert found["Invocations"] == [1] and found["Errors"] == [1]


async def test_reserved_concurrency_throttles(capsys: pytest.CaptureFixture[str]) -> None:
    """With reserved concurrency 1 in use, a second invocation is refused and counted."""
    RELEASE.clear()
    invoker = Invoker(_spec("held", concurrency=1), "eu-west-1")
    first = asyncio.create_task(invoker.invoke({}))
    # The task runs up to its first await, inside the handler's call.
    await eventually(lambda: invoker.in_flight == 1, within=5, what="the first call in flight")
    with pytest.raises(Throttled):
        await invoker.invoke({})
    RELEASE.set()
    await first
    invoker.close()
    found = _metrics(capsys.readouterr().out)
    assert found["Throttles"] == [1] and found["Invocations"] == [1]


def test_template_lambda_alarms_name_the_published_function() -> None:
    """The template's checkout API alarm resolves FunctionName to the function's logical id,
    which is the name the local host runs it under (`FunctionSpec.name`)."""
    from localaws.resources import Deployed
    from localaws.template import load_sam, transform

    template = transform(load_sam(), region="eu-west-1",
                         parameters={"InventoryUrl": "http://127.0.0.1:8081"})
    deployed = Deployed(template=template, region="eu-west-1", stack_name="s", physical={})
    alarm = template.resources["CheckoutApiErrorsAlarm"]["Properties"]
    (dimension,) = deployed.resolve(alarm["Dimensions"])
    assert dimension["Name"] == "FunctionName"
    assert dimension["Value"] == "CheckoutApiFunction"
    assert "CheckoutApiFunction" in template.of_type("AWS::Lambda::Function")
