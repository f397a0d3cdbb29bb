"""Pinning a hold to the booking that pays for it: release, confirm and expiry respect the pin."""

from __future__ import annotations

import asyncio
from typing import Any

import aiomysql
from aiohttp.test_utils import TestClient

from inventory.db import fetch_all
from tests.waiting import eventually

from .conftest import TOKEN

Client = TestClient[Any, Any]
SERVICE = {"X-Service-Token": TOKEN}
OWNER = {**SERVICE, "X-Customer-Id": "alice"}


async def new_hold(client: Client, flight_id: int, quantity: int = 1) -> str:
    """Hold *quantity* economy seats for alice and return the hold id."""
    resp = await client.post("/internal/holds", headers=OWNER, json={"items": [
        {"kind": "flight", "flight_id": str(flight_id), "cabin": "economy",
         "quantity": quantity}]})
    assert resp.status == 201
    hold_id: str = (await resp.json())["id"]
    return hold_id


async def pin(client: Client, hold_id: str, booking_id: str, customer: str = "alice") -> Any:
    """Post the pin call checkout's API makes before it writes the booking."""
    return await client.post(f"/internal/holds/{hold_id}/pin", json={"booking_id": booking_id},
                             headers={**SERVICE, "X-Customer-Id": customer})


async def post(client: Client, hold_id: str, step: str, body: dict[str, Any]) -> Any:
    """Post one of the saga's steps (confirm, release) for the hold."""
    return await client.post(f"/internal/holds/{hold_id}/{step}", json=body, headers=SERVICE)


async def seconds_left(pool: aiomysql.Pool, hold_id: str) -> float:
    """Return how long until the hold expires, from MySQL's clock."""
    rows = await fetch_all(pool, "SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6),"
                                 " expires_at) / 1e6 AS left_s FROM holds WHERE id = %s",
                           (hold_id,))
    return float(rows[0]["left_s"])


async def code(resp: Any) -> tuple[int, str]:
    """Return the status and problem code of a refusal."""
    return resp.status, (await resp.json())["code"]


async def test_pin_ties_the_hold_to_its_booking_and_outlives_the_checkout(
        start_client: Any, make_flight: Any, counts: Any, pool: aiomysql.Pool) -> None:
    """A pin records the booking id, keeps the seats held and pushes expiry out to the grace."""
    flight_id = await make_flight(economy=5)
    async with start_client(hold_ttl_seconds=60, hold_checkout_grace_seconds=600) as client:
        hold_id = await new_hold(client, flight_id, 2)
        assert await seconds_left(pool, hold_id) < 61
        resp = await pin(client, hold_id, "bk-1")
        assert resp.status == 200
        body = await resp.json()
        assert (body["status"], body["booking_id"]) == ("active", "bk-1")
        assert 590 < await seconds_left(pool, hold_id) <= 600
    assert await counts(flight_id) == {"capacity": 5, "available": 3, "held": 2, "sold": 0}


async def test_pin_never_shortens_a_hold(start_client: Any, make_flight: Any,
                                         pool: aiomysql.Pool) -> None:
    """A hold that already outlives the grace keeps its expiry."""
    flight_id = await make_flight()
    async with start_client(hold_ttl_seconds=900, hold_checkout_grace_seconds=60) as client:
        hold_id = await new_hold(client, flight_id)
        before = await fetch_all(pool, "SELECT expires_at FROM holds WHERE id = %s", (hold_id,))
        assert (await pin(client, hold_id, "bk-1")).status == 200
        after = await fetch_all(pool, "SELECT expires_at FROM holds WHERE id = %s", (hold_id,))
    assert after == before


async def test_pinning_again_with_the_same_booking_is_harmless(client: Client, make_flight: Any,
                                                               counts: Any) -> None:
    """The same booking may pin twice, and again once confirmed; another booking gets 409."""
    flight_id = await make_flight(economy=4)
    hold_id = await new_hold(client, flight_id)
    first, again = await pin(client, hold_id, "bk-1"), await pin(client, hold_id, "bk-1")
    assert first.status == again.status == 200
    assert (await again.json())["booking_id"] == "bk-1"
    assert await code(await pin(client, hold_id, "bk-2")) == (409, "hold_in_checkout")
    assert (await post(client, hold_id, "confirm", {"booking_id": "bk-1"})).status == 200
    confirmed = await pin(client, hold_id, "bk-1")
    assert confirmed.status == 200 and (await confirmed.json())["status"] == "confirmed"
    assert await code(await pin(client, hold_id, "bk-2")) == (409, "hold_not_active")
    assert await counts(flight_id) == {"capacity": 4, "available": 3, "held": 0, "sold": 1}


async def test_pin_refuses_a_released_or_cancelled_hold(client: Client, make_flight: Any,
                                                        counts: Any) -> None:
    """A hold the owner released, or whose booking was cancelled, cannot be paid for."""
    flight_id = await make_flight(economy=4)
    released = await new_hold(client, flight_id)
    assert (await client.delete(f"/internal/holds/{released}", headers=OWNER)).status == 200
    assert await code(await pin(client, released, "bk-1")) == (409, "hold_not_active")
    cancelled = await new_hold(client, flight_id)
    assert (await pin(client, cancelled, "bk-2")).status == 200
    assert (await post(client, cancelled, "confirm", {"booking_id": "bk-2"})).status == 200
    assert (await post(client, cancelled, "cancel", {"booking_id": "bk-2"})).status == 200
    assert await code(await pin(client, cancelled, "bk-2")) == (409, "hold_not_active")
    assert await counts(flight_id) == {"capacity": 4, "available": 4, "held": 0, "sold": 0}


async def test_pin_expires_a_hold_past_its_expiry(client: Client, make_flight: Any,
                                                  counts: Any, pool: aiomysql.Pool) -> None:
    """Past expires_at a pin is refused and the seats go back at once, as confirm does."""
    flight_id = await make_flight(economy=3)
    hold_id = await new_hold(client, flight_id, 2)
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("UPDATE holds SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND"
                          " WHERE id = %s", (hold_id,))
    assert await code(await pin(client, hold_id, "bk-1")) == (409, "hold_not_active")
    rows = await fetch_all(pool, "SELECT status, booking_id FROM holds WHERE id = %s",
                           (hold_id,))
    assert rows == [{"status": "expired", "booking_id": None}]
    assert await counts(flight_id) == {"capacity": 3, "available": 3, "held": 0, "sold": 0}


async def test_only_the_owner_s_hold_can_be_pinned(client: Client, make_flight: Any) -> None:
    """Checkout pins on behalf of the traveller: someone else's hold is not found."""
    hold_id = await new_hold(client, await make_flight())
    assert await code(await pin(client, hold_id, "bk-1", customer="bob")) == (404, "not_found")
    got = await client.get(f"/internal/holds/{hold_id}", headers=OWNER)
    assert (await got.json())["booking_id"] is None
    assert (await pin(client, hold_id, "bk-1")).status == 200  # the owner's own checkout may


async def test_the_owner_cannot_release_a_hold_a_booking_pays_for(
        client: Client, make_flight: Any, counts: Any) -> None:
    """DELETE of a pinned hold is 409 `hold_in_checkout` and the seats stay held."""
    flight_id = await make_flight(economy=3)
    hold_id = await new_hold(client, flight_id, 2)
    assert (await pin(client, hold_id, "bk-1")).status == 200
    resp = await client.delete(f"/internal/holds/{hold_id}", headers=OWNER)
    assert await code(resp) == (409, "hold_in_checkout")
    got = await client.get(f"/internal/holds/{hold_id}", headers=OWNER)
    assert (await got.json())["status"] == "active"
    assert await counts(flight_id) == {"capacity": 3, "available": 1, "held": 2, "sold": 0}


async def test_only_the_pinning_booking_may_give_the_seats_back(
        client: Client, make_flight: Any, counts: Any) -> None:
    """Checkout's compensating release works for the pinning booking, not for another one."""
    flight_id = await make_flight(economy=3)
    hold_id = await new_hold(client, flight_id, 2)
    assert (await pin(client, hold_id, "bk-1")).status == 200
    for stale in ({"booking_id": "bk-2"}, {}):
        assert await code(await post(client, hold_id, "release", stale)) == \
            (409, "hold_in_checkout")
    assert (await counts(flight_id))["held"] == 2
    for _ in range(2):
        resp = await post(client, hold_id, "release", {"booking_id": "bk-1"})
        assert resp.status == 200 and (await resp.json())["status"] == "released"
    assert await counts(flight_id) == {"capacity": 3, "available": 3, "held": 0, "sold": 0}


async def test_another_booking_cannot_confirm_a_pinned_hold(client: Client, make_flight: Any,
                                                            counts: Any) -> None:
    """Confirm by a booking other than the pinning one is 409; the pinning one confirms."""
    flight_id = await make_flight(economy=3)
    hold_id = await new_hold(client, flight_id)
    assert (await pin(client, hold_id, "bk-1")).status == 200
    assert await code(await post(client, hold_id, "confirm", {"booking_id": "bk-2"})) == \
        (409, "hold_in_checkout")
    assert (await counts(flight_id))["sold"] == 0
    resp = await post(client, hold_id, "confirm", {"booking_id": "bk-1"})
    assert resp.status == 200 and (await resp.json())["booking_id"] == "bk-1"
    assert await counts(flight_id) == {"capacity": 3, "available": 2, "held": 0, "sold": 1}


async def test_a_pinned_hold_whose_booking_never_came_still_expires(
        start_client: Any, make_flight: Any, counts: Any, pool: aiomysql.Pool) -> None:
    """If checkout dies after pinning, the sweeper gives the seats back once the grace ends."""
    flight_id = await make_flight(economy=4)
    async with start_client(sweep_interval_seconds=0.2) as client:
        hold_id = await new_hold(client, flight_id, 3)
        assert (await pin(client, hold_id, "bk-lost")).status == 200
        # The grace has passed (the checkout that pinned it never wrote its booking).
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("UPDATE holds SET expires_at = UTC_TIMESTAMP(6)"
                              " - INTERVAL 1 SECOND WHERE id = %s", (hold_id,))

        async def swept() -> bool:
            rows = await fetch_all(pool, "SELECT status FROM holds WHERE id = %s", (hold_id,))
            return bool(rows[0]["status"] == "expired")

        await eventually(swept, within=10, what="the sweeper expired the pinned hold")
    assert await counts(flight_id) == {"capacity": 4, "available": 4, "held": 0, "sold": 0}


async def test_pin_and_owner_release_racing_never_both_win(client: Client, make_flight: Any,
                                                           counts: Any) -> None:
    """Twenty pins racing twenty releases: each pair has exactly one winner, and the loser
    gets the 409 that names why, whichever side won."""
    flight_id = await make_flight(economy=20)
    holds = [await new_hold(client, flight_id) for _ in range(20)]

    async def race(hold_id: str) -> tuple[tuple[int, str], tuple[int, str]]:
        pinned, released = await asyncio.gather(
            pin(client, hold_id, f"bk-{hold_id}"),
            client.delete(f"/internal/holds/{hold_id}", headers=OWNER))
        return ((pinned.status, (await pinned.json()).get("code", "")),
                (released.status, (await released.json()).get("code", "")))

    outcomes = await asyncio.gather(*(race(h) for h in holds))
    pins_won = sum(1 for p, _ in outcomes if p[0] == 200)
    for pinned, released in outcomes:
        assert (pinned, released) in (((200, ""), (409, "hold_in_checkout")),
                                      ((409, "hold_not_active"), (200, ""))), outcomes
    assert await counts(flight_id) == {"capacity": 20, "available": 20 - pins_won,
                                       "held": pins_won, "sold": 0}
