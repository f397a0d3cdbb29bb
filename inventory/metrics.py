"""CloudWatch embedded metric format (EMF) lines for inventory's own counters."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from aiohttp import web

from inventory.keys import cache_key, stats_task_key

NAMESPACE = "Itinera/Inventory"
STATS_INTERVAL_S = 60.0


def emf(metrics: Mapping[str, float], *, unit: str = "Count",
        dimensions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the EMF fields that make CloudWatch read *metrics* out of one JSON log line."""
    dims = dict(dimensions or {"Service": "inventory"})
    return {
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": NAMESPACE, "Dimensions": [sorted(dims)],
            "Metrics": [{"Name": name, "Unit": unit} for name in metrics]}]},
        **dims, **metrics,
    }


def put_metrics(metrics: Mapping[str, float], **kwargs: Any) -> None:
    """Write *metrics* as one EMF JSON line on stdout, where CloudWatch Logs picks it up.

    Not through the JSON log formatter: it drops `_`-prefixed keys, and EMF needs `_aws`
    at the top level of the line.
    """
    sys.stdout.write(orjson.dumps(emf(metrics, **kwargs)).decode() + "\n")
    sys.stdout.flush()


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
