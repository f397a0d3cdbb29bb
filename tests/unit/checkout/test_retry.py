"""Checkout retry policy: dependency outages are waited out, other failures dead-letter fast."""

from __future__ import annotations

import aiohttp
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from checkout.payments import PaymentDeclined, PaymentTransientError
from checkout.retry import backoff_seconds, is_transient, retry_budget_seconds
from checkout.saga import PublishInProgress, UnknownBooking
from itinera.errors import Conflict, DependencyUnavailable, ItineraError, NotFound


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "PutItem")


@pytest.mark.parametrize("exc", [
    DependencyUnavailable("inventory is failing over"),
    ItineraError.answered(502, "upstream_refused", "Refused upstream"),
    ItineraError.answered(504, "upstream_refused", "Refused upstream"),
    PaymentTransientError("the card network timed out"),
    PublishInProgress("being published"),
    TimeoutError(),
    aiohttp.ClientConnectionError(),
    _client_error("ProvisionedThroughputExceededException"),
    _client_error("ThrottlingException"),
    _client_error("InternalServerError", 500),
    _client_error("SomethingNew", 503),
    EndpointConnectionError(endpoint_url="http://dynamodb"),
    ReadTimeoutError(endpoint_url="http://dynamodb"),
])
def test_dependency_outages_are_transient(exc: BaseException) -> None:
    """Unavailable, throttled, timed-out or 5xx dependencies are classed as transient."""
    assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    UnknownBooking("b1"),
    KeyError("booking_id"),
    ValueError("bad body"),
    PaymentDeclined("declined"),
    Conflict("hold taken"),
    NotFound("no such hold"),
    ItineraError.answered(500, "internal_error", "Internal error"),
    _client_error("ValidationException"),
    _client_error("ConditionalCheckFailedException"),
])
def test_other_failures_are_not_transient(exc: BaseException) -> None:
    """Bugs, missing bookings and 4xx answers are not dependency outages."""
    assert not is_transient(exc)


def test_transient_backoff_doubles_up_to_thirty_seconds() -> None:
    """A dependency outage is retried after 1, 2, 4, 8, 16 s, then every 30 s."""
    delays = [backoff_seconds(n, transient=True) for n in range(1, 10)]
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert backoff_seconds(0, transient=True) == 1
    assert backoff_seconds(10_000, transient=True) == 30


def test_other_backoff_stays_short() -> None:
    """A possible poison message is retried after 1 s, then every 2 s."""
    assert [backoff_seconds(n, transient=False) for n in range(1, 6)] == [1, 2, 2, 2, 2]


def test_budgets_outlast_a_failover_and_dead_letter_poison_quickly() -> None:
    """Over maxReceiveCount receives an outage is waited out ~2.5 min, poison only ~17 s."""
    assert retry_budget_seconds(transient=True) == 151
    assert retry_budget_seconds(transient=False) == 17
