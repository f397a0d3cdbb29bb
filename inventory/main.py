"""Build the inventory application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from inventory.admin import AdminRepository
from inventory.cache import redis_ctx
from inventory.callers import CHECKOUT, GATEWAY, service_token_middleware
from inventory.catalog import Catalog
from inventory.db import mysql_ctx, ping
from inventory.holds import HoldRepository
from inventory.hotels import HotelCatalog
from inventory.keys import (
    admin_key,
    business_key,
    cache_key,
    catalog_key,
    holds_key,
    hotels_key,
    pool_key,
    settings_key,
)
from inventory.metrics import new_batch, stats_ctx
from inventory.routes import setup_routes
from inventory.settings import Settings
from inventory.sweeper import sweeper_ctx
from inventory.unavailable import database_unavailable_middleware
from itinera.web import json_response, new_app

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READY_TIMEOUT_S = 2.0


async def repositories_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the repositories on the open pool."""
    app[catalog_key] = Catalog(app[pool_key])
    app[hotels_key] = HotelCatalog(app[pool_key])
    app[holds_key] = HoldRepository(app[pool_key], ttl_seconds=app[settings_key].hold_ttl_seconds)
    app[admin_key] = AdminRepository(app[pool_key], app[catalog_key])
    yield


async def _check(check: Callable[[], Awaitable[None]]) -> str | None:
    try:
        await asyncio.wait_for(check(), timeout=READY_TIMEOUT_S)
    except Exception as exc:  # every failure is a report, not a crash
        return f"{type(exc).__name__}: {exc}"[:200]
    return None


@web.middleware
async def readiness_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer /ready: MySQL down is 503; Redis down is only degraded, as search works without it."""
    if request.path != "/ready":
        return await handler(request)
    app = request.app
    mysql_error, redis_error = await asyncio.gather(_check(lambda: ping(app[pool_key])),
                                                    _check(app[cache_key].ping))
    report = {"mysql": "ok" if mysql_error is None else f"failed: {mysql_error}",
              "redis": "ok" if redis_error is None else f"degraded: {redis_error}"}
    body = {"status": "ok" if mysql_error is None else "unavailable", "checks": report,
            "search_cache": app[cache_key].stats.report()}
    return json_response(body, status=200 if mysql_error is None else 503)


def create_app(settings: Settings) -> web.Application:
    """Return the inventory app; it connects to MySQL and Redis only when it starts."""
    app = new_app(middlewares=[readiness_middleware, database_unavailable_middleware,
                               service_token_middleware({GATEWAY: settings.gateway_token,
                                                         CHECKOUT: settings.checkout_token})])
    app[settings_key] = settings
    app[business_key] = new_batch()
    app.cleanup_ctx.extend([mysql_ctx, redis_ctx, repositories_ctx, sweeper_ctx, stats_ctx])
    setup_routes(app)
    return app
