"""Build the inventory application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from inventory.cache import redis_ctx
from inventory.catalog import Catalog
from inventory.db import mysql_ctx, ping
from inventory.holds import HoldRepository
from inventory.keys import cache_key, catalog_key, holds_key, pool_key, settings_key
from inventory.routes import setup_routes
from inventory.settings import Settings
from inventory.sweeper import sweeper_ctx
from inventory.views import service_token_middleware
from itinera.web import new_app


async def repositories_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the repositories on the open pool."""
    app[catalog_key] = Catalog(app[pool_key])
    app[holds_key] = HoldRepository(app[pool_key], ttl_seconds=app[settings_key].hold_ttl_seconds)
    yield


def create_app(settings: Settings) -> web.Application:
    """Return the inventory app; it connects to MySQL and Redis only when it starts."""

    async def mysql_ready() -> None:
        await ping(app[pool_key])

    async def redis_ready() -> None:
        await app[cache_key].ping()

    app = new_app(checks={"mysql": mysql_ready, "redis": redis_ready},
                  middlewares=[service_token_middleware(settings.internal_token)])
    app[settings_key] = settings
    app.cleanup_ctx.extend([mysql_ctx, redis_ctx, repositories_ctx, sweeper_ctx])
    setup_routes(app)
    return app
