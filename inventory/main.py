"""Build the inventory application."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from inventory.callers import CHECKOUT, GATEWAY, service_token_middleware
from inventory.db import ping
from inventory.keys import business_key, cache_key, pool_key, settings_key
from inventory.metrics import new_batch
from inventory.resources import mysql_ctx, redis_ctx, repositories_ctx, stats_ctx
from inventory.routes import setup_routes
from inventory.settings import Settings
from inventory.sweeper import sweeper_ctx
from inventory.unavailable import database_unavailable_middleware
from itinera.web import check_passes, json_response, new_app

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def readiness_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer /ready: MySQL down is 503; Redis down is only degraded, as search works without it."""
    if request.path != "/ready":
        return await handler(request)
    app = request.app
    mysql_ok, redis_ok = await asyncio.gather(check_passes("mysql", lambda: ping(app[pool_key])),
                                              check_passes("redis", app[cache_key].ping))
    report = {"mysql": "ok" if mysql_ok else "failed", "redis": "ok" if redis_ok else "degraded"}
    body = {"status": "ok" if mysql_ok else "unavailable", "checks": report,
            "search_cache": app[cache_key].stats.report()}
    return json_response(body, status=200 if mysql_ok else 503)


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
