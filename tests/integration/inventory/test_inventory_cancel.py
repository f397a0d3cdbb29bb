"""Cancelling a confirmed hold over the internal API: seats come back once, for its booking."""

from __future__ import annotations

import asyncio
from typing import Any

import aiomysql
from aiohttp.test_utils import TestClient

from inventory.db import fetch_all

from .conftest import TOKEN

Client = TestClient[Any, Any]
SERVICE = {"X-Service-Token": TOKEN}


async def confirmed_hold(client: Client, flight_id: int, quantity: int, booking_id: str) -> str:
    """Create a hold of *quantity* economy seats, confirm it for *booking_id*, return its id."""
    resp = await client.post("/internal/holds", headers={**SERVICE, "X-Customer-Id": "alice"},
                             json={"items": [{"kind": "flight", "flight_id": str(flight_id),
                                              "cabin": "economy", "quantity": quantity}]})
    assert resp.status == 201
    hold_id: str = (await resp.json())["id"]
    resp = await client.post(f"/internal/holds/{hold_id}/confirm", headers=SERVICE,
                             json={"booking_id": booking_id})
    assert resp.status == 200
    return hold_id


async def cancel(client: Client, hold_id: str, booking_id: str) -> Any:
    """Post the cancel call checkout's saga makes."""
    return await client.post(f"/internal/holds/{hold_id}/cancel", headers=SERVICE,
                             json={"booking_id": booking_id})


async def test_cancel_gives_sold_seats_back(client: Client, make_flight: Any,
                                            counts: Any) -> None:
    """Cancelling a confirmed hold moves its seats from sold back to available."""
    flight_id = await make_flight(economy=10)
    hold_id = await confirmed_hold(client, flight_id, 3, "bk-c1")
    assert await counts(flight_id) == {"capacity": 10, "available": 7, "held": 0, "sold": 3}
    resp = await cancel(client, hold_id, "bk-c1")
    assert resp.status == 200
    body = await resp.json()
    assert body["id"] == hold_id and body["status"] == "cancelled"
    assert body["booking_id"] == "bk-c1" and body["items"][0]["quantity"] == 3
    assert await counts(flight_id) == {"capacity": 10, "available": 10, "held": 0, "sold": 0}


async def test_cancel_twice_is_once(client: Client, make_flight: Any, counts: Any) -> None:
    """A repeated cancel with the same booking id returns the same hold and moves no seats."""
    flight_id = await make_flight(economy=10)
    hold_id = await confirmed_hold(client, flight_id, 2, "bk-c2")
    first = await cancel(client, hold_id, "bk-c2")
    again = await cancel(client, hold_id, "bk-c2")
    assert first.status == again.status == 200
    assert await first.json() == await again.json()
    assert await counts(flight_id) == {"capacity": 10, "available": 10, "held": 0, "sold": 0}


async def test_concurrent_cancels_give_back_once(client: Client, make_flight: Any,
                                                 counts: Any) -> None:
    """Ten simultaneous cancels of one hold all answer 200 and free its seats exactly once."""
    flight_id = await make_flight(economy=10)
    hold_id = await confirmed_hold(client, flight_id, 4, "bk-c3")
    responses = await asyncio.gather(*(cancel(client, hold_id, "bk-c3") for _ in range(10)))
    assert {r.status for r in responses} == {200}
    assert await counts(flight_id) == {"capacity": 10, "available": 10, "held": 0, "sold": 0}


async def test_cancel_with_another_booking_id_is_refused(client: Client, make_flight: Any,
                                                         counts: Any) -> None:
    """Another booking's id gets 409 hold_not_active, before and after the real cancel."""
    flight_id = await make_flight(economy=10)
    hold_id = await confirmed_hold(client, flight_id, 2, "bk-c4")
    wrong = await cancel(client, hold_id, "bk-other")
    assert wrong.status == 409 and (await wrong.json())["code"] == "hold_not_active"
    assert await counts(flight_id) == {"capacity": 10, "available": 8, "held": 0, "sold": 2}
    assert (await cancel(client, hold_id, "bk-c4")).status == 200
    wrong = await cancel(client, hold_id, "bk-other")
    assert wrong.status == 409 and (await wrong.json())["code"] == "hold_not_active"
    assert await counts(flight_id) == {"capacity": 10, "available": 10, "held": 0, "sold": 0}


async def test_cancel_of_an_unconfirmed_hold_is_refused(client: Client, make_flight: Any,
                                                        counts: Any) -> None:
    """Active and released holds cannot be cancelled: 409, and their seats stay where they are."""
    flight_id = await make_flight(economy=10)
    resp = await client.post("/internal/holds", headers={**SERVICE, "X-Customer-Id": "alice"},
                             json={"items": [{"kind": "flight", "flight_id": str(flight_id),
                                              "cabin": "economy", "quantity": 1}]})
    hold_id = (await resp.json())["id"]
    active = await cancel(client, hold_id, "bk-c5")
    assert active.status == 409 and (await active.json())["code"] == "hold_not_active"
    assert await counts(flight_id) == {"capacity": 10, "available": 9, "held": 1, "sold": 0}
    await client.post(f"/internal/holds/{hold_id}/release", headers=SERVICE, json={})
    released = await cancel(client, hold_id, "bk-c5")
    assert released.status == 409 and (await released.json())["code"] == "hold_not_active"
    assert await counts(flight_id) == {"capacity": 10, "available": 10, "held": 0, "sold": 0}


async def test_cancel_unknown_malformed_and_unauthenticated(client: Client) -> None:
    """Unknown hold 404, malformed id or body 400, no service token 401."""
    unknown = await cancel(client, "e" * 32, "bk-x")
    assert unknown.status == 404 and (await unknown.json())["code"] == "not_found"
    # A malformed id matches no route: it cannot name a hold.
    assert (await cancel(client, "nothex", "bk-x")).status == 404
    no_booking = await client.post("/internal/holds/" + "e" * 32 + "/cancel", headers=SERVICE,
                                   json={})
    assert no_booking.status == 400
    extra = await client.post("/internal/holds/" + "e" * 32 + "/cancel", headers=SERVICE,
                              json={"booking_id": "bk-x", "refund": True})
    assert extra.status == 400
    anonymous = await client.post("/internal/holds/" + "e" * 32 + "/cancel",
                                  json={"booking_id": "bk-x"})
    assert anonymous.status == 401


async def test_capacity_invariant_after_mixed_confirms_and_cancels(
        client: Client, make_flight: Any, counts: Any, pool: aiomysql.Pool) -> None:
    """Confirm then cancel half of many holds concurrently: capacity = available + held + sold."""
    flight_id = await make_flight(economy=40)
    hold_ids = await asyncio.gather(*(confirmed_hold(client, flight_id, 2, f"bk-m{n}")
                                      for n in range(12)))
    await asyncio.gather(*(cancel(client, h, f"bk-m{n}") for n, h in enumerate(hold_ids)
                           if n % 2 == 0))
    after = await counts(flight_id)
    assert after == {"capacity": 40, "available": 40 - 12, "held": 0, "sold": 12}
    rows = await fetch_all(pool, "SELECT status, COUNT(*) AS n FROM holds h JOIN hold_items i"
                                 " ON i.hold_id = h.id WHERE i.flight_id = %s GROUP BY status",
                           (flight_id,))
    assert {r["status"]: r["n"] for r in rows} == {"confirmed": 6, "cancelled": 6}
