"""What the inventory app holds while it runs, one cleanup context each, filling its keys.

These contexts sit above the modules that own the objects (db, cache, the repositories,
metrics), so those modules never import the keys and the keys import them without a circle.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from inventory.admin import AdminRepository
from inventory.cache import SearchCache, new_redis_cache
from inventory.catalog import Catalog
from inventory.db import close_pool, create_pool
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
    stats_task_key,
)
from inventory.metrics import (
    OVERSOLD_INTERVAL_S,
    STATS_INTERVAL_S,
    cache_deltas,
    put_metrics,
    put_oversold,
)


async def mysql_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hold the pool for the app's lifetime; it connects on first use.

    The service starts (and answers /health) while the database is unreachable or, on a first
    deploy, before the migration task has created its user; /ready reports MySQL until then.
    A start that needed the database would crash-loop and trip ECS's circuit breaker.
    """
    pool = await create_pool(app[settings_key].db, minsize=0)
    app[pool_key] = pool
    yield
    await close_pool(pool)


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hold the search cache for the app's lifetime."""
    settings = app[settings_key]
    search_cache = SearchCache(new_redis_cache(settings.redis_url), ttl=settings.cache_ttl_seconds)
    app[cache_key] = search_cache
    yield
    await search_cache.close()


async def repositories_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build the repositories on the open pool."""
    app[catalog_key] = Catalog(app[pool_key])
    app[hotels_key] = HotelCatalog(app[pool_key])
    app[holds_key] = HoldRepository(app[pool_key], ttl_seconds=app[settings_key].hold_ttl_seconds)
    app[admin_key] = AdminRepository(app[pool_key], app[catalog_key])
    yield


async def stats_ctx(app: web.Application) -> AsyncIterator[None]:
    """Log the cache's counters and the business counters every second, the oversold check
    every ten."""

    async def emit() -> None:
        last: dict[str, int] = {}
        ticks = 0
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            now = app[cache_key].stats.counters()
            metrics = cache_deltas(now, last)
            last = now
            if metrics:
                put_metrics(metrics)
            app[business_key].flush()
            ticks += 1
            if ticks * STATS_INTERVAL_S >= OVERSOLD_INTERVAL_S:
                ticks = 0
                await put_oversold(app[pool_key])

    task = asyncio.create_task(emit())
    app[stats_task_key] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    app[business_key].flush()
