"""Rate limits on searches, per traveller or address, shared by every gateway task in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import redis.asyncio as aioredis
from aiohttp import web

from gateway.keys import limiter_key, settings_key, verifier_key
from gateway.limiter import RateLimiter
from itinera.errors import ItineraError, RateLimited, Unauthorized
from itinera.metrics import put_metrics
from itinera.web import problem_response

log = logging.getLogger("gateway.ratelimit")
# Only search traffic is limited here; the edge (WAF rate rule) limits everything.
LIMITED_PREFIXES = ("/v1/flights", "/v1/hotels")
def client_address(request: web.Request, trusted_hops: int) -> str:
    """Return the caller's address: the entry the trusted proxies saw, else the peer."""
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")
                 if a.strip()]
    if trusted_hops and len(forwarded) >= trusted_hops:
        return forwarded[-trusted_hops][:64]
    return request.remote or "unknown"


def client_key(request: web.Request) -> str:
    """Return whose budget a search spends: a signed-in traveller's own, else the address's.

    Travellers behind one NAT (an office, a load generator) each keep their own budget once
    they sign in; an invalid token counts as no token, since search needs none.
    """
    authorization = request.headers.get("Authorization")
    if authorization:
        try:
            return f"sub:{request.app[verifier_key].verify(authorization).sub}"
        except Unauthorized:
            pass
    return f"ip:{client_address(request, request.app[settings_key].trusted_proxy_hops)}"


@web.middleware
async def rate_limit_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer 429 `rate_limited` with Retry-After when a client searches too fast."""
    if not request.path.startswith(LIMITED_PREFIXES):
        return await handler(request)
    limiter = request.app[limiter_key]
    decision = await limiter.take(client_key(request))
    headers = limiter.headers(decision)
    if not decision.allowed:
        response: web.StreamResponse = problem_response(RateLimited(
            f"too many searches; retry in {decision.retry_after}s",
            retry_after=decision.retry_after), request.path)
    else:
        try:
            response = await handler(request)
        except ItineraError as err:
            # The quota headers belong on every answer, a failed search's included.
            response = problem_response(err, request.path)
    response.headers.update(headers)
    return response


async def limiter_ctx(app: web.Application) -> AsyncIterator[None]:
    """Connect the limiter to Redis, and report fail-open decisions as a metric."""
    settings = app[settings_key]
    redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=0.2,
                                    socket_connect_timeout=0.2)
    limiter = app[limiter_key] = RateLimiter(redis, rate=settings.rate_limit_per_second,
                                             burst=settings.rate_limit_burst)

    async def report() -> None:
        while True:
            await asyncio.sleep(10)
            if limiter.failed_open:
                log.warning("rate limiter failed open", extra={"requests": limiter.failed_open})
                put_metrics({"RateLimiterFailedOpen": limiter.failed_open},
                            namespace="Itinera/Gateway", service="gateway")
                limiter.failed_open = 0

    task = asyncio.create_task(report())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await redis.aclose()
