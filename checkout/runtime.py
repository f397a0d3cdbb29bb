"""One event loop and one set of clients per Lambda execution environment, kept while warm."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import redis.asyncio as aioredis

from checkout.idempotency import IdempotencyStore
from checkout.inventory import InventoryClient
from checkout.limits import BookingLimits
from checkout.payments import SimulatedPaymentProvider
from checkout.repository import BookingRepository
from checkout.saga import BookingSaga, SnsPublisher
from checkout.service import CheckoutService
from checkout.settings import Settings
from itinera.aws import BOTO_CONFIG, session
from itinera.http import ServiceClient
from itinera.limits.gcra import RateLimiter
from itinera.limits.holdings import HoldLedger
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
    redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=0.2,
                                    socket_connect_timeout=0.2)
    stack.push_async_callback(redis.aclose)
    token, fingerprint_key = await _secrets(settings)
    inventory = InventoryClient(ServiceClient(
        http, settings.inventory_url, name="inventory", headers={SERVICE_TOKEN_HEADER: token}))
    bookings = BookingRepository(dynamodb, settings.bookings_table)
    payments = SimulatedPaymentProvider(dynamodb, settings.payments_table,
                                        fingerprint_key=fingerprint_key.encode(),
                                        latency_ms=settings.payment_latency_ms)
    limits = BookingLimits(RateLimiter(redis), HoldLedger(redis, settings.limits),
                           settings.limits)
    service = CheckoutService(
        bookings=bookings, idempotency=IdempotencyStore(dynamodb, settings.idempotency_table),
        inventory=inventory, payments=payments, limits=limits, sqs=sqs,
        queue_url=settings.checkout_queue_url)
    saga = BookingSaga(bookings=bookings, payments=payments, inventory=inventory,
                       publisher=SnsPublisher(sns, settings.booking_events_topic_arn),
                       outcomes=limits)
    return Dependencies(service=service, saga=saga, payments=payments, sqs=sqs,
                        queue_url=settings.checkout_queue_url, stack=stack)


async def _secrets(settings: Settings) -> tuple[str, str]:
    """Return the service credential and the card fingerprint key, from Secrets Manager on AWS
    (read once per cold start) or as the local stack handed them over."""
    token, key = settings.internal_token, settings.card_fingerprint_key
    if token and (key or not settings.card_fingerprint_secret_arn):
        return token, key
    async with session().client("secretsmanager", config=BOTO_CONFIG) as secrets:
        if not token:
            token = (await secrets.get_secret_value(
                SecretId=settings.internal_token_secret_arn))["SecretString"]
        if not key and settings.card_fingerprint_secret_arn:
            key = (await secrets.get_secret_value(
                SecretId=settings.card_fingerprint_secret_arn))["SecretString"]
    return token, key


def shutdown() -> None:
    """Close this environment's clients (the local stack calls it when it stops)."""
    deps: Dependencies | None = getattr(_environment, "deps", None)
    loop = getattr(_environment, "loop", None)
    if deps is not None and loop is not None and not loop.is_closed():
        loop.run_until_complete(deps.stack.aclose())
        _environment.deps = None
    if loop is not None and not loop.is_closed():
        loop.close()
