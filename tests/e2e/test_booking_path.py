"""The walking skeleton: search, hold, pay, confirm, notify, over HTTP on the gateway."""

from __future__ import annotations

import aiohttp
import aiomysql

from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import (
    auth,
    book,
    cabin_counts,
    find_flight,
    hold_seats,
    search_available,
    wait_for_email,
    wait_for_status,
)
from tests.waiting import eventually

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


async def _search_shows(http: aiohttp.ClientSession, stack: RunningStack,
                        flight: dict[str, object], expected: int) -> None:
    """Poll search until it shows *expected* seats (the cache may lag by its TTL)."""
    async def shows() -> bool:
        seen = await search_available(http, stack.url, flight)
        assert seen == expected, f"search shows {seen} seats"
        return True

    await eventually(shows, within=5, every=0.3, what=f"search showing {expected} seats")


async def test_paid_booking_is_confirmed_sold_and_announced_by_email(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool) -> None:
    """A good card ends `confirmed`: seats sold, search shows fewer, SES sent the e-mail."""
    # GIVEN a flight found through public search, and a traveller's token
    flight = await find_flight(http, stack.url, seats=2)
    before = await cabin_counts(db, flight["id"])
    token = stack.token("alice")

    # WHEN she holds two seats and pays with a good card
    hold = await hold_seats(http, stack.url, token, flight["id"], 2)
    assert hold["status"] == "active"
    assert hold["total"]["amount"] == 2 * flight["fare"]["amount"]
    status, started = await book(http, stack.url, token, hold["id"], GOOD_CARD,
                                 email="alice@example.com")
    assert status == 202, started
    assert started["status"] == "pending"

    # THEN the booking is confirmed and the seats are sold
    booking = await wait_for_status(http, stack.url, token, started["booking_id"])
    assert booking["status"] == "confirmed", booking
    after = await cabin_counts(db, flight["id"])
    assert after["sold"] == before["sold"] + 2
    assert after["available"] == before["available"] - 2
    assert after["held"] == before["held"]
    assert after["capacity"] == after["available"] + after["held"] + after["sold"]

    # AND search shows two seats fewer, and the confirmation e-mail went out once
    await _search_shows(http, stack, flight, before["available"] - 2)
    emails = await wait_for_email(http, stack.config.moto_url, to="alice@example.com",
                                  containing=booking["booking_id"])
    assert len(emails) == 1
    assert "confirmed" in emails[0]["subject"]


async def test_declined_card_fails_the_booking_and_gives_the_seats_back(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool) -> None:
    """A declined card ends `failed`, the hold is released and the seats are available again."""
    flight = await find_flight(http, stack.url, seats=3)
    before = await cabin_counts(db, flight["id"])
    token = stack.token("bob")

    hold = await hold_seats(http, stack.url, token, flight["id"], 3)
    assert (await cabin_counts(db, flight["id"]))["held"] == before["held"] + 3
    status, started = await book(http, stack.url, token, hold["id"], DECLINED_CARD,
                                 email="bob@example.com")
    assert status == 202, started

    booking = await wait_for_status(http, stack.url, token, started["booking_id"])
    assert booking["status"] == "failed", booking
    assert booking["failure_reason"] == "payment_declined"
    async with http.get(f"{stack.url}/v1/holds/{hold['id']}", headers=auth(token)) as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "released"
    assert await cabin_counts(db, flight["id"]) == before
    emails = await wait_for_email(http, stack.config.moto_url, to="bob@example.com",
                                  containing=booking["booking_id"])
    assert len(emails) == 1 and "could not be completed" in emails[0]["subject"]


async def test_protected_routes_refuse_requests_without_a_valid_token(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """No token, a forged token or an expired one gets 401 problem+json with a request id."""
    forged = stack.token("mallory")[:-4] + "AAAA"
    expired = stack.token("mallory", ttl=-120)
    for headers in ({}, auth(forged), auth(expired), {"Authorization": "Basic abc"}):
        async with http.post(f"{stack.url}/v1/holds", headers=headers, json={"items": []}) as r:
            assert r.status == 401
            assert r.headers["Content-Type"].startswith("application/problem+json")
            assert (await r.json())["code"] == "unauthorized"
            assert r.headers["X-Request-Id"]
        async with http.get(f"{stack.url}/v1/bookings", headers=headers) as r:
            assert r.status == 401


async def test_a_traveller_cannot_see_another_travellers_booking_or_hold(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Someone else's hold or booking is 404, so ids do not leak."""
    flight = await find_flight(http, stack.url, seats=1)
    owner, other = stack.token("carol"), stack.token("dave")
    hold = await hold_seats(http, stack.url, owner, flight["id"], 1)
    async with http.get(f"{stack.url}/v1/holds/{hold['id']}", headers=auth(other)) as resp:
        assert resp.status == 404
    status, body = await book(http, stack.url, other, hold["id"], GOOD_CARD)
    assert status == 404, body
    status, started = await book(http, stack.url, owner, hold["id"], GOOD_CARD)
    assert status == 202
    async with http.get(f"{stack.url}/v1/bookings/{started['booking_id']}",
                        headers=auth(other)) as resp:
        assert resp.status == 404


async def test_every_service_reports_health_and_readiness(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Gateway, inventory and notifier answer /health and a /ready that checked dependencies."""
    cfg = stack.config
    # The notifier has no load balancer: ask one of its tasks.
    notifier = next(t["port"] for t in
                    stack.stack.scheduler.snapshot()["notifier"]["tasks"].values()
                    if t["state"] == "RUNNING")
    for port in (cfg.gateway_port, cfg.inventory_port, notifier):
        async with http.get(f"http://127.0.0.1:{port}/health") as resp:
            assert resp.status == 200
        async with http.get(f"http://127.0.0.1:{port}/ready") as resp:
            body = await resp.json()
            assert resp.status == 200, body
            assert body["checks"] and all(v == "ok" for v in body["checks"].values())


async def test_admin_routes_need_the_admin_scope(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """A traveller's token gets 403 on the admin API; an admin token lists holds."""
    traveller = auth(stack.token("ruth"))
    admin = auth(stack.token("ops", admin=True))
    async with http.get(f"{stack.url}/v1/admin/holds", headers=traveller) as resp:
        assert resp.status == 403
        assert (await resp.json())["code"] == "forbidden"
    # A client cannot claim the admin role with the internal header itself.
    async with http.get(f"{stack.url}/v1/admin/holds",
                        headers={**traveller, "X-Admin": "true"}) as resp:
        assert resp.status == 403
    async with http.get(f"{stack.url}/v1/admin/holds", headers=admin) as resp:
        assert resp.status == 200, await resp.text()
        assert "items" in await resp.json()


async def test_responses_match_the_published_openapi_schemas(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Search, hold, booking and problem answers validate against /v1/openapi.json."""
    from jsonschema import Draft202012Validator

    async with http.get(f"{stack.url}/v1/openapi.json") as resp:
        assert resp.status == 200
        spec = await resp.json()

    def check(instance: object, schema: dict[str, object]) -> None:
        Draft202012Validator({**schema, "components": spec["components"]}).validate(instance)

    flight = await find_flight(http, stack.url, seats=1)
    check(flight, {"$ref": "#/components/schemas/FlightOffer"})
    token = stack.token("sam")
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    check(hold, {"$ref": "#/components/schemas/Hold"})
    status, booking = await book(http, stack.url, token, hold["id"], GOOD_CARD)
    assert status == 202
    check(booking, {"$ref": "#/components/schemas/Booking"})
    async with http.post(f"{stack.url}/v1/holds", headers=auth(token),
                         json={"items": [], "price": 1}) as resp:
        assert resp.status == 400
        check(await resp.json(), {"$ref": "#/components/schemas/Problem"})
