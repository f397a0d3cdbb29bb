"""Flight search and details over HTTP against MariaDB and Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiomysql
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient

from inventory.catalog import flight_search_key
from itinera.api.search import FlightSearch

Client = TestClient[Any, Any]


def day(offset: int) -> str:
    """Return the UTC date *offset* days from today as YYYY-MM-DD."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def test_search_returns_only_flights_with_enough_seats_in_order(
        client: Client, make_flight: Any) -> None:
    """Flights with fewer seats than passengers are left out; the rest come by departure."""
    when = datetime.now(UTC).date() + timedelta(days=30)
    seats = {9: 3, 7: 5, 12: 1, 6: 9, 15: 4}  # departure hour -> available economy seats
    ids = {hour: await make_flight(day=when, at=timedelta(hours=hour), economy=n)
           for hour, n in seats.items()}
    resp = await client.get("/v1/flights", params={
        "origin": "AMS", "destination": "MAD", "date": when.isoformat(), "passengers": "4"})
    assert resp.status == 200
    body = await resp.json()
    assert [i["id"] for i in body["items"]] == [str(ids[h]) for h in (6, 7, 15)]
    assert all(i["available"] >= 4 for i in body["items"])
    first = body["items"][0]
    assert first["departure_utc"] == f"{when.isoformat()}T06:00:00Z"
    assert first["departure_local"].endswith(("+01:00", "+02:00"))
    assert first["fare"] == {"amount": 10_000, "currency": "EUR"}
    assert (first["cabin"], first["duration_min"]) == ("economy", 150)
    assert body["next_cursor"] is None


async def test_pagination_visits_every_flight_once(client: Client, make_flight: Any) -> None:
    """Following next_cursor pages through all matches without duplicates or gaps."""
    when = datetime.now(UTC).date() + timedelta(days=31)
    # Two flights share a departure time, so the id must break the tie.
    made = [await make_flight(day=when, at=timedelta(hours=h)) for h in (5, 9, 9, 13, 17)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"origin": "AMS", "destination": "MAD", "date": when.isoformat(), "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        body = await (await client.get("/v1/flights", params=params)).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(i) for i in made]


async def test_second_identical_search_is_a_cache_hit(client: Client,
                                                      redis: aioredis.Redis) -> None:
    """The first search fills Redis under the inventory namespace; the second is served from it."""
    params = {"origin": "LHR", "destination": "JFK", "date": day(3)}
    first = await client.get("/v1/flights", params=params)
    assert (first.status, first.headers["X-Cache"]) == (200, "miss")
    key = "inventory:" + flight_search_key(FlightSearch(origin="LHR", destination="JFK",
                                                        date=day(3)))
    assert await redis.exists(key) == 1
    assert 0 < await redis.ttl(key) <= 30
    second = await client.get("/v1/flights", params=params)
    assert second.headers["X-Cache"] == "hit"
    assert await second.json() == await first.json()
    assert (await first.json())["items"], "the seeded route has flights that day"


async def test_search_works_when_redis_is_unreachable(start_client: Any) -> None:
    """With Redis unreachable, searches are served from MySQL and /ready says degraded, 200."""
    async with start_client(redis_url="redis://127.0.0.1:1/15") as client:
        for _ in range(2):
            resp = await client.get("/v1/flights", params={
                "origin": "LHR", "destination": "JFK", "date": day(2)})
            assert resp.status == 200
            assert (await resp.json())["items"]
        ready = await client.get("/ready")
        assert ready.status == 200
        checks = (await ready.json())["checks"]
        assert checks["mysql"] == "ok" and checks["redis"] == "degraded"


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"origin": "ZZZ", "destination": "JFK", "date": day(2)}, 422, "unknown_airport"),
    ({"origin": "LHR", "destination": "JFK", "date": day(-2)}, 422, "date_in_past"),
    ({"origin": "LHR", "destination": "JFK", "date": "02/01/2030"}, 400, "bad_request"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "passengers": "10"}, 422,
     "invalid_passengers"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "passengers": "0"}, 422,
     "invalid_passengers"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "sort": "cheapest"}, 400,
     "invalid_sort"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "depart_after": "7am"}, 400,
     "bad_request"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "max_price": "-5"}, 422,
     "validation_failed"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "cabin": "first"}, 422,
     "invalid_cabin"),
    ({"origin": "LHR", "destination": "JFK", "date": day(2), "cursor": "x!"}, 422,
     "invalid_cursor"),
    ({"origin": "LHR", "date": day(2)}, 400, "bad_request"),
])
async def test_bad_search_inputs_give_problem_json(client: Client, redis: aioredis.Redis,
                                                   params: dict[str, str], status: int,
                                                   code: str) -> None:
    """Each bad input gives its status and stable code, and caches nothing."""
    resp = await client.get("/v1/flights", params=params)
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == code
    assert await redis.dbsize() == 0


async def test_flight_details_show_both_cabins_live(client: Client, make_flight: Any,
                                                    pool: aiomysql.Pool) -> None:
    """Details read MySQL directly, so a change in seats shows at once."""
    flight_id = await make_flight(economy=12, business=4)
    body = await (await client.get(f"/v1/flights/{flight_id}")).json()
    assert [(c["cabin"], c["available"]) for c in body["cabins"]] == [("economy", 12),
                                                                      ("business", 4)]
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("UPDATE flight_cabins SET available = 11, sold = 1"
                          " WHERE flight_id = %s AND cabin = 'economy'", (flight_id,))
    body = await (await client.get(f"/v1/flights/{flight_id}")).json()
    assert body["cabins"][0]["available"] == 11


@pytest.mark.parametrize(("flight_id", "status", "code"), [
    ("abc", 404, "not_found"), ("-1", 404, "not_found"), ("8999999999", 404, "not_found"),
    ("99999999999999999999", 404, "not_found")])
async def test_flight_details_errors(client: Client, flight_id: str, status: int,
                                     code: str) -> None:
    """A malformed id is a 400 and an unknown one a 404, both problem+json."""
    resp = await client.get(f"/v1/flights/{flight_id}")
    assert resp.status == status
    assert (await resp.json())["code"] == code
