"""Holds over the internal API: all or nothing, no overbooking, release, confirm, expiry."""

from __future__ import annotations

import asyncio
from typing import Any

import aiomysql
import pytest
from aiohttp.test_utils import TestClient

from inventory.db import fetch_all
from tests.waiting import eventually

from .conftest import TOKEN

Client = TestClient[Any, Any]


def auth(customer: str | None = "alice") -> dict[str, str]:
    """Return the internal headers, with the customer when given."""
    headers = {"X-Service-Token": TOKEN}
    if customer:
        headers["X-Customer-Id"] = customer
    return headers


def item(flight_id: int, quantity: int = 1, cabin: str = "economy") -> dict[str, Any]:
    """Return one hold item as the gateway sends it."""
    return {"kind": "flight", "flight_id": str(flight_id), "cabin": cabin, "quantity": quantity}


async def hold(client: Client, *items: dict[str, Any], customer: str = "alice") -> Any:
    """Create a hold and return the response."""
    return await client.post("/internal/holds", json={"items": list(items)},
                             headers=auth(customer))


async def test_hold_moves_seats_from_available_to_held(client: Client, make_flight: Any,
                                                       counts: Any) -> None:
    """A hold takes seats out of available into held and prices them from the fares."""
    flight_id = await make_flight(economy=20, business=5, fare=12_345)
    resp = await hold(client, item(flight_id, 2), item(flight_id, 1, "business"))
    assert resp.status == 201
    body = await resp.json()
    assert body["status"] == "active" and body["booking_id"] is None
    assert body["customer_id"] == "alice" and len(body["id"]) == 32
    assert body["items"][0] == {**item(flight_id, 2),
                                "unit_price": {"amount": 12_345, "currency": "EUR"}}
    assert body["total"] == {"amount": 2 * 12_345 + 4 * 12_345, "currency": "EUR"}
    assert body["expires_at"] > body["created_at"]
    assert await counts(flight_id) == {"capacity": 20, "available": 18, "held": 2, "sold": 0}
    assert await counts(flight_id, "business") == {"capacity": 5, "available": 4, "held": 1,
                                                   "sold": 0}


async def test_sold_out_changes_nothing(client: Client, make_flight: Any, counts: Any,
                                        pool: aiomysql.Pool) -> None:
    """When the second item is short, the first is not held either and no hold is written."""
    plenty, short = await make_flight(economy=20), await make_flight(economy=1)
    before = await fetch_all(pool, "SELECT COUNT(*) AS n FROM holds")
    resp = await hold(client, item(plenty, 2), item(short, 2))
    assert resp.status == 409
    assert (await resp.json())["code"] == "sold_out"
    assert await counts(plenty) == {"capacity": 20, "available": 20, "held": 0, "sold": 0}
    assert await counts(short) == {"capacity": 1, "available": 1, "held": 0, "sold": 0}
    assert await fetch_all(pool, "SELECT COUNT(*) AS n FROM holds") == before


async def test_concurrent_holds_never_overbook(client: Client, make_flight: Any,
                                               counts: Any) -> None:
    """Sixty concurrent one-seat holds on twenty seats: twenty win, forty get sold_out."""
    flight_id = await make_flight(economy=20)
    responses = await asyncio.gather(*(hold(client, item(flight_id), customer=f"c{n}")
                                       for n in range(60)))
    statuses = [r.status for r in responses]
    assert statuses.count(201) == 20 and statuses.count(409) == 40
    codes = {(await r.json())["code"] for r in responses if r.status == 409}
    assert codes == {"sold_out"}
    after = await counts(flight_id)
    assert after == {"capacity": 20, "available": 0, "held": 20, "sold": 0}


async def test_release_gives_seats_back_once(client: Client, make_flight: Any,
                                             counts: Any) -> None:
    """DELETE releases the seats; a second DELETE is a no-op that returns the hold."""
    flight_id = await make_flight(economy=10)
    hold_id = (await (await hold(client, item(flight_id, 3))).json())["id"]
    for _ in range(2):
        resp = await client.delete(f"/internal/holds/{hold_id}", headers=auth())
        assert resp.status == 200
        assert (await resp.json())["status"] == "released"
        assert await counts(flight_id) == {"capacity": 10, "available": 10, "held": 0,
                                           "sold": 0}


async def test_compensating_release_needs_no_owner(client: Client, make_flight: Any,
                                                   counts: Any) -> None:
    """Checkout's release endpoint frees the seats without X-Customer-Id, idempotently."""
    flight_id = await make_flight(economy=5)
    hold_id = (await (await hold(client, item(flight_id, 2))).json())["id"]
    for _ in range(2):
        resp = await client.post(f"/internal/holds/{hold_id}/release",
                                 json={"booking_id": "b-1"}, headers=auth(None))
        assert resp.status == 200
        assert (await resp.json())["status"] == "released"
    assert (await counts(flight_id))["available"] == 5


async def test_confirm_is_idempotent_per_booking(client: Client, make_flight: Any,
                                                 counts: Any) -> None:
    """Confirming twice with one booking id sells the seats once; another id gets 409."""
    flight_id = await make_flight(economy=10)
    hold_id = (await (await hold(client, item(flight_id, 2))).json())["id"]
    url = f"/internal/holds/{hold_id}/confirm"
    first = await client.post(url, json={"booking_id": "bk-1"}, headers=auth(None))
    again = await client.post(url, json={"booking_id": "bk-1"}, headers=auth(None))
    assert first.status == again.status == 200
    assert await first.json() == await again.json()
    assert (await first.json())["status"] == "confirmed"
    assert (await first.json())["booking_id"] == "bk-1"
    assert await counts(flight_id) == {"capacity": 10, "available": 8, "held": 0, "sold": 2}
    other = await client.post(url, json={"booking_id": "bk-2"}, headers=auth(None))
    assert other.status == 409 and (await other.json())["code"] == "hold_not_active"
    released = await client.delete(f"/internal/holds/{hold_id}", headers=auth())
    assert released.status == 409 and (await released.json())["code"] == "hold_not_active"
    assert await counts(flight_id) == {"capacity": 10, "available": 8, "held": 0, "sold": 2}


async def test_confirm_after_expiry_fails_and_returns_seats(start_client: Any,
                                                            make_flight: Any,
                                                            counts: Any) -> None:
    """Past expires_at a hold reads as expired and cannot be confirmed, sweeper or not."""
    flight_id = await make_flight(economy=6)
    async with start_client(hold_ttl_seconds=1) as client:
        hold_id = (await (await hold(client, item(flight_id, 2))).json())["id"]

        async def expired() -> bool:
            got = await client.get(f"/internal/holds/{hold_id}", headers=auth())
            return bool((await got.json())["status"] == "expired")

        await eventually(expired, within=10, what="the hold read as expired past its TTL")
        resp = await client.post(f"/internal/holds/{hold_id}/confirm",
                                 json={"booking_id": "bk-late"}, headers=auth(None))
        assert resp.status == 409 and (await resp.json())["code"] == "hold_not_active"
        assert await counts(flight_id) == {"capacity": 6, "available": 6, "held": 0, "sold": 0}
        released = await client.delete(f"/internal/holds/{hold_id}", headers=auth())
        assert (await released.json())["status"] == "expired"
        assert (await counts(flight_id))["available"] == 6


async def test_sweeper_expires_overdue_holds(start_client: Any, make_flight: Any,
                                             counts: Any, pool: aiomysql.Pool) -> None:
    """The background sweeper marks an overdue hold expired and gives its seats back."""
    flight_id = await make_flight(economy=4)
    async with start_client(hold_ttl_seconds=1, sweep_interval_seconds=0.2) as client:
        hold_id = (await (await hold(client, item(flight_id, 3))).json())["id"]

        async def swept() -> bool:
            rows = await fetch_all(pool, "SELECT status FROM holds WHERE id = %s", (hold_id,))
            return bool(rows[0]["status"] == "expired")

        await eventually(swept, within=10, what="the sweeper expired the hold")
        assert await counts(flight_id) == {"capacity": 4, "available": 4, "held": 0, "sold": 0}


async def test_internal_routes_need_the_service_token(client: Client, make_flight: Any) -> None:
    """Without the right X-Service-Token every internal route answers 401 problem+json."""
    flight_id = await make_flight()
    body = {"items": [item(flight_id)]}
    hold_path = "/internal/holds/" + "0" * 32
    for headers in ({}, {"X-Service-Token": "wrong", "X-Customer-Id": "alice"}):
        for method, path in (("POST", "/internal/holds"), ("GET", hold_path),
                             ("DELETE", hold_path), ("POST", hold_path + "/confirm"),
                             ("POST", hold_path + "/release")):
            resp = await client.request(method, path, json=body, headers=headers)
            assert resp.status == 401
            assert resp.content_type == "application/problem+json"
            assert (await resp.json())["code"] == "unauthorized"


async def test_another_customer_sees_not_found(client: Client, make_flight: Any,
                                               counts: Any) -> None:
    """A hold read or released by someone else is a 404 and stays untouched."""
    flight_id = await make_flight(economy=3)
    hold_id = (await (await hold(client, item(flight_id))).json())["id"]
    for method in ("GET", "DELETE"):
        resp = await client.request(method, f"/internal/holds/{hold_id}", headers=auth("bob"))
        assert resp.status == 404 and (await resp.json())["code"] == "not_found"
    owner = await client.get(f"/internal/holds/{hold_id}", headers=auth())
    assert (await owner.json())["status"] == "active"
    assert (await counts(flight_id))["held"] == 1


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"items": [{"kind": "flight", "flight_id": "8999999999", "cabin": "economy",
                 "quantity": 1}]}, 422, "unknown_flight"),
    ({"items": [], "price": 1}, 400, "bad_request"),
    ({"items": []}, 422, "invalid_hold_items"),
])
async def test_bad_hold_requests(client: Client, body: dict[str, Any], status: int,
                                 code: str) -> None:
    """Unknown flights, unknown fields and empty holds are refused with stable codes."""
    resp = await client.post("/internal/holds", json=body, headers=auth())
    assert resp.status == status
    assert (await resp.json())["code"] == code


async def test_hold_needs_a_customer_and_a_future_flight(client: Client, make_flight: Any,
                                                         pool: aiomysql.Pool,
                                                         counts: Any) -> None:
    """No X-Customer-Id is a 400; a departed flight is a 422 and keeps its seats."""
    flight_id = await make_flight(economy=3)
    resp = await client.post("/internal/holds", json={"items": [item(flight_id)]},
                             headers=auth(None))
    assert resp.status == 400
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("UPDATE flights SET departure_utc = UTC_TIMESTAMP() - INTERVAL 1 HOUR,"
                          " arrival_utc = UTC_TIMESTAMP() + INTERVAL 1 HOUR WHERE id = %s",
                          (flight_id,))
    resp = await hold(client, item(flight_id))
    assert resp.status == 422 and (await resp.json())["code"] == "flight_departed"
    assert (await counts(flight_id))["available"] == 3


async def test_unknown_and_malformed_hold_ids(client: Client) -> None:
    """An unknown hold id is a 404; a malformed one a 400."""
    assert (await client.get("/internal/holds/" + "f" * 32, headers=auth())).status == 404
    assert (await client.get("/internal/holds/nothex", headers=auth())).status == 404


async def test_mixed_holds_and_releases_keep_the_counts(client: Client, make_flight: Any,
                                                        counts: Any) -> None:
    """Concurrent two-cabin holds in either item order, then releases, leave every seat free."""
    flight_id = await make_flight(economy=30, business=30)
    economy, business = item(flight_id, 1), item(flight_id, 1, "business")
    created = await asyncio.gather(*(
        hold(client, *((economy, business) if n % 2 else (business, economy)))
        for n in range(24)))
    ids = [(await r.json())["id"] for r in created if r.status == 201]
    assert len(ids) == 24
    assert (await counts(flight_id))["held"] == 24
    released = await asyncio.gather(*(client.delete(f"/internal/holds/{i}", headers=auth())
                                      for i in ids))
    assert {r.status for r in released} == {200}
    for cabin in ("economy", "business"):
        assert await counts(flight_id, cabin) == {"capacity": 30, "available": 30, "held": 0,
                                                  "sold": 0}
