"""CloudWatch embedded metric format (EMF) lines for inventory's own counters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from inventory.keys import cache_key, stats_task_key
from itinera.metrics import put_metrics as shared_put_metrics

NAMESPACE = "Itinera/Inventory"
STATS_INTERVAL_S = 60.0


def put_metrics(metrics: Mapping[str, float], **kwargs: Any) -> None:
    """Write inventory's *metrics* as one EMF line (see `itinera.metrics`)."""
    shared_put_metrics(metrics, namespace=NAMESPACE, service="inventory", **kwargs)


async def stats_ctx(app: web.Application) -> AsyncIterator[None]:
    """Log the search cache's counters as an EMF line every minute, as deltas."""

    async def emit() -> None:
        last: dict[str, int] = {}
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            now = app[cache_key].stats.counters()
            delta = {name: value - last.get(name, 0) for name, value in now.items()}
            last = now
            lookups = delta["hits"] + delta["misses"]
            put_metrics({
                "SearchCacheHits": delta["hits"], "SearchCacheMisses": delta["misses"],
                "SearchLoads": delta["loads"], "SearchServedWithoutRedis": delta["bypassed"],
                "RedisErrors": delta["redis_errors"],
                "SearchCacheHitRatio": round(delta["hits"] / lookups, 4) if lookups else 0})

    task = asyncio.create_task(emit())
    app[stats_task_key] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
