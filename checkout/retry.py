"""How long a failed checkout message waits before it comes back: by the kind of failure."""

from __future__ import annotations

import asyncio

import aiohttp
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from checkout.payments import PaymentTransientError
from checkout.saga import PublishInProgress
from itinera.errors import ItineraError

# A dependency outage (an Aurora failover behind inventory, DynamoDB throttling, the card
# network timing out) is waited out: 1, 2, 4, 8, 16, 30, 30, ... s. With the checkout queue's
# maxReceiveCount of 10 that is 151 s of waiting before the DLQ, longer than a failover.
TRANSIENT_BASE_SECONDS = 1.0
TRANSIENT_CAP_SECONDS = 30.0
# Anything else may be a poison message (a bug, a booking that does not exist): retried
# after 1, 2, 2, ... s so it reaches the DLQ, and an operator, in under 20 s.
OTHER_BASE_SECONDS = 1.0
OTHER_CAP_SECONDS = 2.0
# The queue's maxReceiveCount in infra/sam/data.yaml; the budgets above are sized for it.
MAX_RECEIVE_COUNT = 10

# DynamoDB/SQS/SNS answers that mean "not now" rather than "never".
_TRANSIENT_AWS_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
    "RequestLimitExceeded", "TooManyRequestsException", "LimitExceededException",
    "InternalServerError", "InternalFailure", "InternalError", "ServiceUnavailable",
    "TransactionInProgressException", "RequestThrottled",
})
# Upstream statuses of a dependency that is down, overloaded or failing over.
_TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """Return whether the failure is a dependency being unavailable for a while."""
    if isinstance(exc, PaymentTransientError | PublishInProgress | TimeoutError
                  | asyncio.TimeoutError | aiohttp.ClientConnectionError
                  | ConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ItineraError):
        return exc.status in _TRANSIENT_STATUSES
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        return error.get("Code") in _TRANSIENT_AWS_CODES or status >= 500
    return False


def backoff_seconds(receive_count: int, *, transient: bool) -> int:
    """Return how long the message stays invisible after its receive_count-th failure."""
    base, cap = ((TRANSIENT_BASE_SECONDS, TRANSIENT_CAP_SECONDS) if transient
                 else (OTHER_BASE_SECONDS, OTHER_CAP_SECONDS))
    return int(min(cap, base * 2 ** min(max(0, receive_count - 1), 30)))


def retry_budget_seconds(*, transient: bool, max_receive_count: int = MAX_RECEIVE_COUNT
                         ) -> int:
    """Return the total wait between the first receive and the DLQ for one kind of failure."""
    return sum(backoff_seconds(n, transient=transient) for n in range(1, max_receive_count))
