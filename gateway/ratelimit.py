"""Search budgets per traveller and per address, and the Redis the gateway's limits share."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis
from aiohttp import web

from gateway.hold_limits import HoldGuard
from gateway.keys import (
    hold_guard_key,
    limit_metrics_key,
    limiter_key,
    settings_key,
    verifier_key,
)
from itinera.errors import ItineraError, Unauthorized
from itinera.limits.gcra import RateLimiter, rate_limit_headers
from itinera.limits.holdings import HoldLedger
from itinera.limits.metrics import count_refusal
from itinera.limits.policies import Rate, refusal
from itinera.metrics import put_metrics
from itinera.web import problem_response

log = logging.getLogger("gateway.ratelimit")
# Search is limited here; holds in hold_limits.py, bookings in checkout; the edge's WAF rules
# limit every route per address, more coarsely.
LIMITED_PREFIXES = ("/v1/flights", "/v1/hotels")


def client_address(request: web.Request, trusted_hops: int) -> str:
    """Return the caller's address: the entry the trusted proxies saw, else the peer."""
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")
                 if a.strip()]
    if trusted_hops and len(forwarded) >= trusted_hops:
        return forwarded[-trusted_hops][:64]
    return request.remote or "unknown"


def client_key(request: web.Request, address: str) -> str:
    """Return whose budget a search spends: a signed-in traveller's own, else the address's.

    Travellers behind one NAT (an office, a load generator) each keep their own budget once
    they sign in; an invalid token counts as no token, since search needs none. Every search
    also spends its address's larger budget, so many accounts behind one address do not
    multiply it.
    """
    authorization = request.headers.get("Authorization")
    if authorization:
        try:
            return f"sub:{request.app[verifier_key].verify(authorization).sub}"
        except Unauthorized:
            pass
    return f"ip:{address}"


@web.middleware
async def rate_limit_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer 429 `rate_limited` with Retry-After when a client searches too fast."""
    if not request.path.startswith(LIMITED_PREFIXES):
        return await handler(request)
    limiter = request.app[limiter_key]
    limits = request.app[settings_key].limits
    address = client_address(request, request.app[settings_key].trusted_proxy_hops)
    search = limits.rate("search")
    decision = await limiter.take(search, client_key(request, address))
    refused: Rate | None = None if decision.allowed else search
    if refused is None:
        wide = limits.rate("search-address")
        widest = await limiter.take(wide, f"ip:{address}")
        if not widest.allowed:
            refused, decision = wide, widest
    headers = rate_limit_headers(refused or search, decision)
    if refused is not None:
        count_refusal(request.app[limit_metrics_key], refused.name)
        response: web.StreamResponse = problem_response(
            refusal(refused, retry_after=decision.retry_after), request.path)
    else:
        try:
            response = await handler(request)
        except ItineraError as err:
            # The quota headers belong on every answer, a failed search's included.
            response = problem_response(err, request.path)
    response.headers.update(headers)
    return response


async def limiter_ctx(app: web.Application) -> AsyncIterator[None]:
    """Connect the limits to Redis, and report fail-open decisions as a metric."""
    settings = app[settings_key]
    redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=0.2,
                                    socket_connect_timeout=0.2)
    limiter = app[limiter_key] = RateLimiter(redis)
    ledger = HoldLedger(redis, settings.limits)
    app[hold_guard_key] = HoldGuard(
        limiter, ledger, settings.limits,
        refused=lambda policy: count_refusal(app[limit_metrics_key], policy.name))

    async def report() -> None:
        while True:
            await asyncio.sleep(10)
            failed = sum(limiter.failed_open.values()) + sum(ledger.failed_open.values())
            if failed:
                log.warning("limits failed open", extra={
                    "requests": failed, "policies": dict(limiter.failed_open + ledger.failed_open)})
                put_metrics({"RateLimiterFailedOpen": failed},
                            namespace="Itinera/Gateway", service="gateway")
                limiter.failed_open.clear()
                ledger.failed_open.clear()

    task = asyncio.create_task(report())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await redis.aclose()
