"""Rate limits for the public, unauthenticated routes: 429 with Retry-After."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.keys import limiter_key, settings_key
from itinera.errors import RateLimited

# Only anonymous traffic is limited here; the edge (WAF rate rule) limits everything.
LIMITED_PREFIXES = ("/v1/flights", "/v1/hotels")


def client_address(request: web.Request, trusted_hops: int) -> str:
    """Return the caller's address: the entry the trusted proxies saw, else the peer."""
    forwarded = [a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",")
                 if a.strip()]
    if trusted_hops and len(forwarded) >= trusted_hops:
        return forwarded[-trusted_hops]
    return request.remote or "unknown"


@web.middleware
async def rate_limit_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Answer 429 `rate_limited` with Retry-After when an anonymous client goes too fast."""
    if request.path.startswith(LIMITED_PREFIXES):
        settings = request.app[settings_key]
        client = client_address(request, settings.trusted_proxy_hops)
        wait = request.app[limiter_key].wait_time(client)
        if wait > 0:
            raise RateLimited(f"too many searches from {client}; retry in {math.ceil(wait)}s",
                              retry_after=math.ceil(wait))
    return await handler(request)
