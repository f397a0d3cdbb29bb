"""Flight search sorts, filters and keyset pages, and the indexes that serve the searches."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomysql
import pytest
from aiohttp.test_utils import TestClient

from inventory.db import fetch_all

Client = TestClient[Any, Any]
_days = itertools.count(40)  # one fresh day per fixture use, so earlier flights do not mix in


async def walk(client: Client, params: dict[str, str]) -> list[dict[str, Any]]:
    """Follow next_cursor from the first page to the last and return every item."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        page_params = {**params, **({"cursor": cursor} if cursor else {})}
        resp = await client.get("/v1/flights", params=page_params)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("too many pages")


@pytest.fixture
async def sortable(make_flight: Any) -> tuple[str, list[int]]:
    """Nine AMS->MAD flights on one day with tied prices and departure times."""
    when = datetime.now(UTC).date() + timedelta(days=next(_days))
    made = []
    # (hour, fare): ties on fare and on departure, so the id has to break them.
    for hour, fare in ((5, 300), (9, 100), (9, 200), (13, 100), (17, 300), (6, 200),
                       (20, 100), (9, 100), (11, 250)):
        made.append(await make_flight(day=when, at=timedelta(hours=hour), fare=fare * 100))
    return when.isoformat(), made


@pytest.mark.parametrize("sort", ["departure", "price", "duration"])
async def test_walking_pages_gives_each_flight_once_in_order(client: Client, sortable: Any,
                                                             pool: aiomysql.Pool,
                                                             sort: str) -> None:
    """For every sort, pages of two visit all nine flights once, ordered by (key, id)."""
    when, made = sortable
    # Vary durations so the duration sort has real keys (with ties) too.
    for n, flight_id in enumerate(made):
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("UPDATE flights SET duration_min = %s,"
                              " arrival_utc = departure_utc + INTERVAL %s MINUTE WHERE id = %s",
                              (100 + 10 * (n % 3), 100 + 10 * (n % 3), flight_id))
    items = await walk(client, {"origin": "AMS", "destination": "MAD", "date": when,
                                "limit": "2", "sort": sort})
    ids = [int(i["id"]) for i in items]
    assert sorted(ids) == sorted(made) and len(ids) == len(set(ids))
    key = {"departure": lambda i: i["departure_utc"], "price": lambda i: i["fare"]["amount"],
           "duration": lambda i: i["duration_min"]}[sort]
    assert [(key(i), int(i["id"])) for i in items] == sorted((key(i), int(i["id"]))
                                                             for i in items)


async def test_filters_by_price_and_local_departure_window(client: Client,
                                                           sortable: Any) -> None:
    """max_price and depart_after/before (local time at the origin) narrow the results."""
    when, _ = sortable
    cheap = await walk(client, {"origin": "AMS", "destination": "MAD", "date": when,
                                "max_price": "10000"})
    assert {i["fare"]["amount"] for i in cheap} == {10_000} and len(cheap) == 4
    # make_flight departs at hour h UTC; Amsterdam is UTC+1 or +2, so 10:00-12:00 local is
    # 08:00-10:00 or 09:00-11:00 UTC.
    window = await walk(client, {"origin": "AMS", "destination": "MAD", "date": when,
                                 "depart_after": "10:00", "depart_before": "12:00"})
    for item in window:
        local = item["departure_local"][11:16]
        assert "10:00" <= local < "12:00"
    assert window


async def test_cursor_from_another_sort_is_refused(client: Client, sortable: Any) -> None:
    """A cursor issued for one sort is a 422 invalid_cursor with another."""
    when, _ = sortable
    params = {"origin": "AMS", "destination": "MAD", "date": when, "limit": "2"}
    cursor = (await (await client.get("/v1/flights", params=params)).json())["next_cursor"]
    resp = await client.get("/v1/flights", params={**params, "sort": "price", "cursor": cursor})
    assert resp.status == 422 and (await resp.json())["code"] == "invalid_cursor"


async def _plan(pool: aiomysql.Pool, sql: str, args: Any) -> list[dict[str, Any]]:
    return await fetch_all(pool, "EXPLAIN " + sql, args)


async def test_flight_search_uses_the_route_index(pool: aiomysql.Pool) -> None:
    """EXPLAIN of the flight search: flights by ix_flights_search, cabins by primary key."""
    day = datetime.now(UTC).date() + timedelta(days=3)
    plan = await _plan(pool, (
        "SELECT f.id FROM flights f JOIN flight_cabins c ON c.flight_id = f.id AND c.cabin = %s"
        " JOIN airports o ON o.iata = f.origin JOIN airports d ON d.iata = f.destination"
        " WHERE f.origin = %s AND f.destination = %s AND f.departure_date_local = %s"
        " AND c.available >= %s AND f.departure_utc > UTC_TIMESTAMP()"
        " ORDER BY f.departure_utc, f.id LIMIT 21"), ("economy", "LHR", "JFK", day, 1))
    by_table = {row["table"]: row for row in plan}
    assert by_table["f"]["key"] == "ix_flights_search"
    assert by_table["c"]["key"] == "PRIMARY"
    assert all(row["type"] != "ALL" for row in plan)


async def test_hotel_search_uses_the_city_and_night_indexes(pool: aiomysql.Pool) -> None:
    """EXPLAIN of the hotel search: hotels by city, room nights by primary key range."""
    from inventory.hotels import _OPTIONS_SQL

    day = datetime.now(UTC).date() + timedelta(days=3)
    sql = _OPTIONS_SQL.format(where="rt.hotel_id IN (SELECT id FROM hotels WHERE city = %s)")
    plan = await _plan(pool, sql, (2, day, day + timedelta(days=3), "London", 3))
    by_table = {row["table"]: row for row in plan}
    assert by_table["hotels"]["key"] == "ix_hotels_city"
    assert by_table["n"]["key"] == "PRIMARY"
    assert all(row["type"] != "ALL" for row in plan if row["table"] in ("hotels", "n"))
