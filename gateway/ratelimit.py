"""Rate limits on searches, per traveller or address, shared by every gateway task in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from aiohttp import web
from redis.exceptions import RedisError

from gateway.keys import limiter_key, settings_key, verifier_key
from itinera.errors import ItineraError, RateLimited, Unauthorized
from itinera.metrics import put_metrics
from itinera.web import problem_response

log = logging.getLogger("gateway.ratelimit")
# Only search traffic is limited here; the edge (WAF rate rule) limits everything.
LIMITED_PREFIXES = ("/v1/flights", "/v1/hotels")
POLICY = "search"
# GCRA in one script, so concurrent tasks cannot both take the last token. The clock is
# Redis's own: gateway tasks on different hosts need not agree on the time.
# Returns {allowed (0/1), remaining, milliseconds until the bucket is full again,
# milliseconds until the next request is allowed}.
GCRA = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now > tolerance then
  return {0, 0, tat - now, new_tat - tolerance - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((tolerance - (new_tat - now)) / interval), new_tat - now, 0}
"""


@dataclass(frozen=True)
class Decision:
    """One request's verdict and what the RateLimit headers say about the client's quota."""

    allowed: bool
    remaining: int
    reset_seconds: int
    retry_after: int


class RateLimiter:
    """Generic cell rate algorithm per client in Redis; fails open when Redis does not answer."""

    def __init__(self, redis: aioredis.Redis, *, rate: float, burst: int,
                 timeout: float = 0.05) -> None:
        self.redis = redis
        self.rate = rate
        self.burst = burst
        self.timeout = timeout
        self.script = redis.register_script(GCRA)
        self.failed_open = 0

    async def take(self, client: str) -> Decision:
        """Take one request from *client*'s quota."""
        interval = 1000.0 / self.rate
        try:
            async with asyncio.timeout(self.timeout):
                allowed, remaining, reset_ms, wait_ms = await self.script(
                    keys=[f"ratelimit:{POLICY}:{client}"],
                    args=[interval, interval * self.burst])
        except (RedisError, OSError, TimeoutError):
            # Better to serve a burst than to refuse every traveller while Redis fails over.
            self.failed_open += 1
            return Decision(True, self.burst, 0, 0)
        return Decision(bool(allowed), int(remaining), math.ceil(int(reset_ms) / 1000),
                        max(1, math.ceil(int(wait_ms) / 1000)) if not allowed else 0)

    def headers(self, decision: Decision) -> dict[str, str]:
        """Return the RateLimit-Policy and RateLimit fields (IETF httpapi draft 10)."""
        window = math.ceil(self.burst / self.rate)
        return {"RateLimit-Policy": f'"{POLICY}";q={self.burst};w={window}',
                "RateLimit": f'"{POLICY}";r={decision.remaining};t={decision.reset_seconds}'}


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
