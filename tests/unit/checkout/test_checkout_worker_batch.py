"""The checkout worker reads SQS batches through Powertools' parser model, failures per record."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

import checkout.worker
from checkout.runtime import shutdown
from itinera.logs import request_id_var, trace_header_var

TRACE = "Root=1-67891233-abcdef012345678912345678;Sampled=1"


class Saga:
    """Settles bookings and delays retries as the worker's steps would, recording both."""

    def __init__(self) -> None:
        self.settled: list[tuple[str, str | None, str | None]] = []
        self.delays: list[tuple[str, int]] = []

    async def settle(self, booking_id: str) -> Any:
        """Record the booking id with the request id and trace in force; leave it pending."""
        self.settled.append((booking_id, request_id_var.get(), trace_header_var.get()))
        return SimpleNamespace(status="pending")

    async def delay(self, receipt_handle: str, seconds: int) -> None:
        """Record how soon the message would come back."""
        self.delays.append((receipt_handle, seconds))


@pytest.fixture
def saga(monkeypatch: pytest.MonkeyPatch) -> Iterator[Saga]:
    """The worker settles through a recording saga and shortens no real visibility."""
    fake = Saga()
    monkeypatch.setattr(checkout.worker, "_settle", fake.settle)
    monkeypatch.setattr(checkout.worker, "_delay", fake.delay)
    yield fake
    shutdown()


def test_the_recorded_batch_settles_its_booking(saga: Saga, event_loader: Any) -> None:
    """The recorded record's body names the booking the saga settles; nothing fails."""
    answer = checkout.worker.handler(event_loader("sqs_checkout_batch"), None)
    assert answer == {"batchItemFailures": []}
    assert saga.settled == [("0f1e2d3c4b5a69788796a5b4c3d2e1f0", None, None)]


def test_a_record_carries_its_request_id_and_trace_into_the_saga(
        saga: Saga, event_loader: Any) -> None:
    """The request id attribute and X-Ray's AWSTraceHeader name the saga's log lines."""
    event = event_loader("sqs_checkout_batch")
    record = event["Records"][0]
    record["attributes"]["AWSTraceHeader"] = TRACE
    record["messageAttributes"] = {"request_id": {"stringValue": "req-7", "dataType": "String",
                                                  "stringListValues": [],
                                                  "binaryListValues": []}}
    checkout.worker.handler(event, None)
    assert saga.settled == [("0f1e2d3c4b5a69788796a5b4c3d2e1f0", "req-7", TRACE)]


def test_a_poison_body_fails_alone_and_comes_back_soon(saga: Saga, event_loader: Any) -> None:
    """A body without a booking id is reported failed, with a short retry delay; the batch's
    other records settle."""
    event = event_loader("sqs_checkout_batch")
    poison = copy.deepcopy(event["Records"][0])
    poison.update(messageId="poison", receiptHandle="poison-handle", body="not json")
    event["Records"].append(poison)
    answer = checkout.worker.handler(event, None)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert [booking for booking, _, _ in saga.settled] == ["0f1e2d3c4b5a69788796a5b4c3d2e1f0"]
    ((handle, seconds),) = saga.delays
    assert handle == "poison-handle" and 1 <= seconds <= 2
