"""Inventory reports searches, holds, sold-out refusals and oversold units as EMF lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiomysql
import orjson
import pytest
from aiohttp.test_utils import TestClient

from inventory.db import fetch_all
from inventory.metrics import OVERSOLD_SQL
from tests.waiting import eventually

from .conftest import TOKEN

Client = TestClient[Any, Any]
HEADERS = {"X-Service-Token": TOKEN, "X-Customer-Id": "alice"}


def totals(out: str) -> dict[str, float]:
    """Add up the Itinera/Inventory metrics in the EMF lines of *out*."""
    sums: dict[str, float] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        doc = orjson.loads(line)
        for declaration in doc.get("_aws", {}).get("CloudWatchMetrics", []):
            if declaration["Namespace"] == "Itinera/Inventory":
                for metric in declaration["Metrics"]:
                    sums[metric["Name"]] = sums.get(metric["Name"], 0) + doc[metric["Name"]]
    return sums


async def test_searches_holds_and_sold_out_are_counted(
        start_client: Any, make_flight: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """A search, a hold and a refused hold show up as Searches, HoldsCreated, HoldsSoldOut."""
    when = datetime.now(UTC).date() + timedelta(days=40)
    flight_id = await make_flight(day=when, economy=2)
    item = {"kind": "flight", "flight_id": str(flight_id), "cabin": "economy", "quantity": 2}
    async with start_client() as client:
        search = await client.get("/v1/flights", params={
            "origin": "AMS", "destination": "MAD", "date": when.isoformat(), "passengers": "1"})
        assert search.status == 200
        assert (await client.post("/internal/holds", json={"items": [item]},
                                  headers=HEADERS)).status == 201
        assert (await client.post("/internal/holds", json={"items": [item]},
                                  headers=HEADERS)).status == 409
        seen: dict[str, float] = {}

        def flushed() -> bool:
            for name, value in totals(capsys.readouterr().out).items():
                seen[name] = seen.get(name, 0) + value
            assert {"Searches", "HoldsCreated", "HoldsSoldOut"} <= set(seen), seen
            return True

        # The counters go out with the next once-a-second flush.
        await eventually(flushed, within=10, every=0.2, what="the three counters flushed")
    assert (seen.get("Searches"), seen.get("HoldsCreated"), seen.get("HoldsSoldOut")) == (
        1, 1, 1)


async def test_the_oversold_check_finds_nothing_when_the_invariant_holds(
        pool: aiomysql.Pool, make_flight: Any) -> None:
    """With capacity = available + held + sold everywhere, oversold units are 0."""
    await make_flight(economy=3)
    (row,) = await fetch_all(pool, OVERSOLD_SQL)
    assert int(row["oversold"]) == 0
