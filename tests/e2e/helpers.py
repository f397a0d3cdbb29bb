"""Small steps the end-to-end tests share: search, hold, book, wait, read the emulator."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import aiomysql

from tests.waiting import eventually

ROUTES = [("LHR", "JFK"), ("CDG", "JFK"), ("FRA", "SIN"), ("AMS", "LAX"), ("JFK", "LHR")]
# Each test gets flights no other test of the session touched, so counts before and after
# are not disturbed by another test's booking that the worker is still finishing.
_USED_FLIGHTS: set[str] = set()


def auth(token: str) -> dict[str, str]:
    """Return the Authorization header for *token*."""
    return {"Authorization": f"Bearer {token}"}


async def find_flight(http: aiohttp.ClientSession, url: str, *, seats: int,
                      used: set[str] | None = None) -> dict[str, Any]:
    """Return a searchable economy flight with *seats* seats that no other test has used
    (of those sharing *used*: by default, every test on the session's stack)."""
    taken = _USED_FLIGHTS if used is None else used
    for days in range(2, 8):
        day = (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
        for origin, destination in ROUTES:
            async with http.get(f"{url}/v1/flights", params={
                    "origin": origin, "destination": destination, "date": day,
                    "passengers": str(seats), "cabin": "economy"}) as resp:
                assert resp.status == 200, await resp.text()
                for item in (await resp.json())["items"]:
                    if item["id"] not in taken:
                        taken.add(item["id"])
                        return dict(item)
    raise AssertionError("the demo catalog has no flight with free seats in the next week")


async def search_available(http: aiohttp.ClientSession, url: str, flight: dict[str, Any]
                           ) -> int | None:
    """Return the economy availability that search shows for *flight*, None if not listed."""
    day = date.fromisoformat(flight["departure_local"][:10]).isoformat()
    async with http.get(f"{url}/v1/flights", params={
            "origin": flight["origin"], "destination": flight["destination"], "date": day,
            "passengers": "1", "cabin": "economy", "limit": "50"}) as resp:
        assert resp.status == 200, await resp.text()
        for item in (await resp.json())["items"]:
            if item["id"] == flight["id"]:
                return int(item["available"])
    return None


async def cabin_counts(db: aiomysql.Pool, flight_id: str) -> dict[str, int]:
    """Return capacity, available, held and sold of the flight's economy cabin, from MySQL."""
    async with db.acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
        await cur.execute("SELECT capacity, available, held, sold FROM flight_cabins "
                          "WHERE flight_id = %s AND cabin = 'economy'", (int(flight_id),))
        row = await cur.fetchone()
    assert row is not None
    return {k: int(v) for k, v in row.items()}


async def hold_seats(http: aiohttp.ClientSession, url: str, token: str, flight_id: str,
                     seats: int) -> dict[str, Any]:
    """Hold *seats* economy seats on the flight and return the hold."""
    async with http.post(f"{url}/v1/holds", headers=auth(token), json={
            "items": [{"kind": "flight", "flight_id": flight_id, "cabin": "economy",
                       "quantity": seats}]}) as resp:
        assert resp.status == 201, await resp.text()
        return dict(await resp.json())


async def book(http: aiohttp.ClientSession, url: str, token: str, hold_id: str, card: str,
               *, email: str = "ada@example.com", key: str | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Start checkout for the hold and return the status and body."""
    async with http.post(f"{url}/v1/bookings", headers={
            **auth(token), "Idempotency-Key": key or uuid.uuid4().hex, **(headers or {})},
            json={
            "hold_id": hold_id, "payment": {"card_number": card},
            "contact": {"email": email, "name": "Ada Lovelace"}}) as resp:
        return resp.status, dict(await resp.json())


async def wait_for_status(http: aiohttp.ClientSession, url: str, token: str, booking_id: str,
                          *, within: float = 30.0, passing: tuple[str, ...] = ("pending",)
                          ) -> dict[str, Any]:
    """Poll the booking until its status is not one of *passing* and return it."""
    async def settled() -> dict[str, Any]:
        async with http.get(f"{url}/v1/bookings/{booking_id}", headers=auth(token)) as resp:
            assert resp.status == 200, await resp.text()
            booking = dict(await resp.json())
        assert booking["status"] not in passing, booking
        return booking

    return await eventually(settled, within=within, every=0.2,
                            what=f"booking {booking_id} past {'/'.join(passing)}")


async def wait_healthy(http: aiohttp.ClientSession, url: str) -> None:
    """Wait until *url* answers 200 ten times in a row through its load balancer."""
    streak = 0

    async def ten_in_a_row() -> bool:
        nonlocal streak
        async with http.get(url) as resp:
            streak = streak + 1 if resp.status == 200 else 0
        return streak >= 10

    await eventually(ten_in_a_row, within=30, every=0.2, what=f"{url} recovered")


async def wait_status(http: aiohttp.ClientSession, url: str, status: int) -> None:
    """Wait until *url* answers *status* (a load balancer left without targets: 503)."""
    async def answers() -> bool:
        async with http.get(url) as resp:
            return resp.status == status

    await eventually(answers, within=30, every=0.2, what=f"{url} answered {status}")


async def sent_emails(http: aiohttp.ClientSession, moto_url: str) -> list[dict[str, Any]]:
    """Return the e-mails SES (moto) recorded as sent.

    moto's state dump serialises every backend's objects, and while a DynamoDB write is in
    flight one of them is keyed by a DynamoType, which it cannot serialise (500, "keys must be
    str ... not DynamoType"): ask again, for a few seconds.
    """
    async def dump() -> tuple[list[dict[str, Any]]]:
        async with http.get(f"{moto_url}/moto-api/data.json") as resp:
            assert resp.status == 200, f"{resp.status}: {(await resp.text())[:200]}"
            data = await resp.json(content_type=None)
        return (list(data.get("ses", {}).get("Message", [])),)  # truthy even when none sent

    return (await eventually(dump, within=5, every=0.2, what="moto's state dump"))[0]


async def wait_for_email(http: aiohttp.ClientSession, moto_url: str, *, to: str,
                         containing: str, within: float = 20.0) -> list[dict[str, Any]]:
    """Wait until an e-mail to *to* whose body names *containing* was sent; return all such."""
    async def found() -> list[dict[str, Any]]:
        return [m for m in await sent_emails(http, moto_url)
                if to in m["destinations"]["ToAddresses"] and containing in m["body"]]

    return await eventually(found, within=within, every=0.2,
                            what=f"an e-mail to {to} naming {containing}")


async def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `itinera ARGS` in a subprocess and return its exit code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()
