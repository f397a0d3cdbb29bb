"""The search cache: hit ratio counters, single-flight under a stampede, a Redis that stops."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from inventory.keys import catalog_key
from itinera.api.search import FlightSearch
from localaws.deps import RedisConfig, ensure_redis

from .conftest import TOKEN, free_port

Client = TestClient[Any, Any]


def day(offset: int) -> str:
    """Return the UTC date *offset* days from today as YYYY-MM-DD."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def test_hundred_cold_searches_run_one_query(client: Client) -> None:
    """One hundred identical cold searches at once cause one database query, all answer 200."""
    catalog = client.app[catalog_key]
    calls = 0
    real_search = catalog.search

    async def counting_search(query: FlightSearch) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)  # simulates: a slow query, still in flight as others arrive
        return await real_search(query)

    catalog.search = counting_search  # type: ignore[method-assign]
    params = {"origin": "FRA", "destination": "SIN", "date": day(5)}
    responses = await asyncio.gather(*(client.get("/v1/flights", params=params)
                                       for _ in range(100)))
    assert {r.status for r in responses} == {200}
    bodies = [await r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    assert calls == 1


async def test_stats_report_the_hit_ratio(client: Client) -> None:
    """/internal/stats counts hits and misses; a miss then three hits is a 0.75 ratio."""
    params = {"origin": "MAD", "destination": "LHR", "date": day(6)}
    for _ in range(4):
        assert (await client.get("/v1/flights", params=params)).status == 200
    stats = await (await client.get("/internal/stats", headers={"X-Service-Token": TOKEN})).json()
    cache = stats["search_cache"]
    assert (cache["hits"], cache["misses"], cache["loads"]) == (3, 1, 1)
    assert cache["hit_ratio"] == 0.75 and cache["redis_degraded"] is False
    ready = await (await client.get("/ready")).json()
    assert ready["checks"] == {"mysql": "ok", "redis": "ok"}
    assert ready["search_cache"]["hits"] == 3
    assert (await client.get("/internal/stats")).status == 401


async def test_search_survives_redis_stopping(start_client: Any, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A private Redis stopped mid-run: searches stay 200, /ready says degraded, a metric logs."""
    port = free_port()
    server, _ = ensure_redis(RedisConfig(port=port), state_dir=tmp_path)
    assert server is not None
    try:
        async with start_client(redis_url=f"redis://127.0.0.1:{port}/0") as client:
            params = {"origin": "LHR", "destination": "JFK", "date": day(2)}
            first = await client.get("/v1/flights", params=params)
            second = await client.get("/v1/flights", params=params)
            assert (first.status, second.headers["X-Cache"]) == (200, "hit")
            server.stop()
            for _ in range(3):
                resp = await client.get("/v1/flights", params=params)
                assert resp.status == 200
                assert await resp.json() == await first.json()
            ready = await client.get("/ready")
            assert ready.status == 200
            assert (await ready.json())["checks"]["redis"] == "degraded"
            stats = await (await client.get("/internal/stats",
                                            headers={"X-Service-Token": TOKEN})).json()
            assert stats["search_cache"]["redis_errors"] >= 1
            assert stats["search_cache"]["redis_degraded"] is True
            assert stats["search_cache"]["bypassed"] >= 1
    finally:
        server.stop()
    # Other metrics may be flushed before it (their timers race the stop): find its line.
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith('{"_aws"') and '"RedisUnavailable"' in line]
    assert lines and lines[0]["RedisUnavailable"] == 1
    assert lines[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "RedisUnavailable", "Unit": "Count"}]
