"""One event loop and one set of clients per Lambda execution environment, kept while warm."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from checkout.idempotency import IdempotencyStore
from checkout.inventory import InventoryClient
from checkout.payments import SimulatedPaymentProvider
from checkout.repository import BookingRepository
from checkout.saga import BookingSaga, SnsPublisher
from checkout.service import CheckoutService
from checkout.settings import Settings
from itinera.aws import BOTO_CONFIG, session
from itinera.http import ServiceClient
from itinera.web import SERVICE_TOKEN_HEADER

T = TypeVar("T")

# A Lambda environment runs one invocation at a time; the local stack runs several
# environments as threads, so "per environment" means per thread.
_environment = threading.local()


@dataclass
class Dependencies:
    """The clients and domain objects one environment reuses across invocations."""

    service: CheckoutService
    saga: BookingSaga
    payments: SimulatedPaymentProvider
    sqs: Any
    queue_url: str
    stack: contextlib.AsyncExitStack


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run *coro* on this environment's loop, which survives between invocations."""
    loop = getattr(_environment, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        _environment.loop = loop
    return loop.run_until_complete(coro)


async def dependencies() -> Dependencies:
    """Return this environment's dependencies, building them on the first invocation."""
    deps: Dependencies | None = getattr(_environment, "deps", None)
    if deps is None:
        deps = await _build(Settings.from_env())
        _environment.deps = deps
    return deps


async def _build(settings: Settings) -> Dependencies:
    stack = contextlib.AsyncExitStack()
    aws = session()
    dynamodb = await stack.enter_async_context(aws.client("dynamodb", config=BOTO_CONFIG))
    sqs = await stack.enter_async_context(aws.client("sqs", config=BOTO_CONFIG))
    sns = await stack.enter_async_context(aws.client("sns", config=BOTO_CONFIG))
    http = await stack.enter_async_context(aiohttp.ClientSession())
    token = settings.internal_token
    if not token:
        async with aws.client("secretsmanager", config=BOTO_CONFIG) as secrets:
            secret = await secrets.get_secret_value(SecretId=settings.internal_token_secret_arn)
        token = secret["SecretString"]
    inventory = InventoryClient(ServiceClient(
        http, settings.inventory_url, name="inventory", headers={SERVICE_TOKEN_HEADER: token}))
    bookings = BookingRepository(dynamodb, settings.bookings_table)
    payments = SimulatedPaymentProvider(dynamodb, settings.payments_table,
                                        latency_ms=settings.payment_latency_ms)
    service = CheckoutService(
        bookings=bookings, idempotency=IdempotencyStore(dynamodb, settings.idempotency_table),
        inventory=inventory, payments=payments, sqs=sqs,
        queue_url=settings.checkout_queue_url)
    saga = BookingSaga(bookings=bookings, payments=payments, inventory=inventory,
                       publisher=SnsPublisher(sns, settings.booking_events_topic_arn))
    return Dependencies(service=service, saga=saga, payments=payments, sqs=sqs,
                        queue_url=settings.checkout_queue_url, stack=stack)


def shutdown() -> None:
    """Close this environment's clients (the local stack calls it when it stops)."""
    deps: Dependencies | None = getattr(_environment, "deps", None)
    loop = getattr(_environment, "loop", None)
    if deps is not None and loop is not None and not loop.is_closed():
        loop.run_until_complete(deps.stack.aclose())
        _environment.deps = None
    if loop is not None and not loop.is_closed():
        loop.close()
