"""CloudWatch embedded metric format (EMF) lines for inventory's own counters."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiomysql

from inventory.db import fetch_all
from itinera.metric_batch import MetricBatch
from itinera.metrics import put_metrics as shared_put_metrics

log = logging.getLogger(__name__)
NAMESPACE = "Itinera/Inventory"
# One line a second at most, and none while idle: the local stack's periods are 6 s.
STATS_INTERVAL_S = 1.0
OVERSOLD_INTERVAL_S = 10.0
# Invariant 1 of DESIGN.md from the other side: units held or sold beyond capacity. The
# tables' CHECK constraints forbid it, so anything but 0 is a broken constraint or migration.
OVERSOLD_SQL = (
    "SELECT (SELECT COALESCE(SUM(held + sold - capacity), 0) FROM flight_cabins"
    " WHERE held + sold > capacity)"
    " + (SELECT COALESCE(SUM(held + sold - capacity), 0) FROM room_nights"
    " WHERE held + sold > capacity) AS oversold")


def put_metrics(metrics: Mapping[str, float], **kwargs: Any) -> None:
    """Write inventory's *metrics* as one EMF line (see `itinera.metrics`)."""
    shared_put_metrics(metrics, namespace=NAMESPACE, service="inventory", **kwargs)


def new_batch() -> MetricBatch:
    """Return the batch of business counters (searches, holds, sold out)."""
    return MetricBatch(namespace=NAMESPACE, service="inventory")


def cache_deltas(now: Mapping[str, int], last: Mapping[str, int]) -> dict[str, float] | None:
    """Return the search cache's metrics since *last*, or None when nothing happened."""
    delta = {name: value - last.get(name, 0) for name, value in now.items()}
    if not any(delta.values()):
        return None
    lookups = delta["hits"] + delta["misses"]
    return {"SearchCacheHits": delta["hits"], "SearchCacheMisses": delta["misses"],
            "SearchLoads": delta["loads"], "SearchServedWithoutRedis": delta["bypassed"],
            "RedisErrors": delta["redis_errors"],
            "SearchCacheHitRatio": round(delta["hits"] / lookups, 4) if lookups else 0}


async def put_oversold(pool: aiomysql.Pool) -> None:
    """Write the units held or sold beyond capacity (0 unless a constraint broke)."""
    try:
        rows = await fetch_all(pool, OVERSOLD_SQL)
    except Exception as exc:  # the database may be down; the gap in the graph says so
        log.warning("oversold check failed", extra={"error": f"{type(exc).__name__}: {exc}"})
        return
    put_metrics({"OversoldUnits": int(rows[0]["oversold"])})
