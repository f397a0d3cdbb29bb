"""The admin API: add flights and hotels, change capacity, list holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from .conftest import TOKEN

Client = TestClient[Any, Any]
ADMIN = {"X-Service-Token": TOKEN, "X-Admin": "true"}


def later(days: int) -> str:
    """Return the UTC date *days* ahead as YYYY-MM-DD."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def test_admin_routes_need_the_admin_header(client: Client) -> None:
    """Without X-Admin: true from the gateway, admin routes are 403 even with the token."""
    resp = await client.get("/internal/admin/holds", headers={"X-Service-Token": TOKEN})
    assert resp.status == 403 and (await resp.json())["code"] == "forbidden"
    assert (await client.get("/internal/admin/holds")).status == 401


async def test_create_flight_then_find_and_hold_it(client: Client) -> None:
    """A created flight is searchable at its local date and holdable."""
    body = {"flight_no": "KL1234", "carrier": "KL", "origin": "AMS", "destination": "LIS",
            "departure_local": f"{later(20)}T07:30",
            "cabins": [{"cabin": "economy", "capacity": 3,
                        "fare": {"amount": 99_00, "currency": "EUR"}}]}
    resp = await client.post("/internal/admin/flights", json=body, headers=ADMIN)
    assert resp.status == 201, await resp.text()
    flight = await resp.json()
    assert flight["departure_local"].startswith(f"{later(20)}T07:30")
    assert flight["cabins"] == [{"cabin": "economy", "available": 3,
                                 "fare": {"amount": 99_00, "currency": "EUR"}}]
    found = await client.get("/v1/flights", params={"origin": "AMS", "destination": "LIS",
                                                     "date": later(20)})
    assert flight["id"] in [i["id"] for i in (await found.json())["items"]]


@pytest.mark.parametrize(("change", "code"), [
    ({"origin": "ZZZ"}, "unknown_airport"), ({"departure_local": "tomorrow"}, "bad_request"),
    ({"cabins": [{"cabin": "first", "capacity": 1, "fare": {"amount": 1, "currency": "EUR"}}]},
     "validation_failed"),
    ({"price": 1}, "bad_request")])
async def test_bad_new_flights(client: Client, change: dict[str, Any], code: str) -> None:
    """Unknown airports, malformed times, unknown cabins and fields are refused."""
    body = {"flight_no": "KL1235", "carrier": "KL", "origin": "AMS", "destination": "LIS",
            "departure_local": f"{later(20)}T07:30",
            "cabins": [{"cabin": "economy", "capacity": 3,
                        "fare": {"amount": 99_00, "currency": "EUR"}}], **change}
    resp = await client.post("/internal/admin/flights", json=body, headers=ADMIN)
    assert (await resp.json())["code"] == code


async def test_capacity_never_below_held_plus_sold(client: Client, make_flight: Any,
                                                   counts: Any) -> None:
    """Capacity may shrink to held + sold but not below: 409 capacity_below_committed."""
    flight_id = await make_flight(economy=10)
    await client.post("/internal/holds", json={"items": [
        {"kind": "flight", "flight_id": str(flight_id), "cabin": "economy", "quantity": 4}]},
        headers={"X-Service-Token": TOKEN, "X-Customer-Id": "alice"})
    url = f"/internal/admin/flights/{flight_id}/cabins/economy"
    low = await client.patch(url, json={"capacity": 3}, headers=ADMIN)
    assert low.status == 409 and (await low.json())["code"] == "capacity_below_committed"
    assert await counts(flight_id) == {"capacity": 10, "available": 6, "held": 4, "sold": 0}
    ok = await client.patch(url, json={"capacity": 4}, headers=ADMIN)
    assert ok.status == 200
    assert await counts(flight_id) == {"capacity": 4, "available": 0, "held": 4, "sold": 0}
    more = await client.patch(url, json={"capacity": 25}, headers=ADMIN)
    assert (await more.json())["available"] == 21


async def test_create_hotel_search_it_and_change_a_night(client: Client) -> None:
    """A created hotel shows in search; a night's capacity change is all-or-none and checked."""
    body = {"name": "Canal House", "city": "Adminburg", "country": "NL",
            "tz": "Europe/Amsterdam", "stars": 4, "lat": 52.37, "lon": 4.89,
            "nights": {"from": later(10), "to": later(15)},
            "room_types": [{"code": "double", "name": "Double", "max_guests": 2, "capacity": 2,
                            "rate": {"amount": 120_00, "currency": "EUR"}}]}
    resp = await client.post("/internal/admin/hotels", json=body, headers=ADMIN)
    assert resp.status == 201, await resp.text()
    hotel_id = (await resp.json())["id"]
    found = await client.get("/v1/hotels", params={"city": "Adminburg", "check_in": later(10),
                                                    "check_out": later(12)})
    assert [i["id"] for i in (await found.json())["items"]] == [hotel_id]
    url = f"/internal/admin/hotels/{hotel_id}/room-types/double/nights"
    await client.post("/internal/holds", headers={"X-Service-Token": TOKEN,
                                                  "X-Customer-Id": "bob"}, json={"items": [
        {"kind": "hotel", "hotel_id": hotel_id, "room_type": "double", "rooms": 2,
         "check_in": later(11), "check_out": later(12)}]})
    low = await client.patch(url, json={"from": later(10), "to": later(13), "capacity": 1},
                             headers=ADMIN)
    assert low.status == 409 and (await low.json())["code"] == "capacity_below_committed"
    ok = await client.patch(url, json={"from": later(10), "to": later(13), "capacity": 5},
                            headers=ADMIN)
    assert [n["available"] for n in (await ok.json())["nights"]] == [5, 3, 5]
    missing = await client.patch(url, json={"from": later(14), "to": later(20), "capacity": 5},
                                 headers=ADMIN)
    assert missing.status == 404


async def test_list_holds_by_status_in_pages(client: Client, make_flight: Any) -> None:
    """Listing released holds in pages of two gives each once, newest first."""
    flight_id = await make_flight(economy=20)
    ids = []
    for _ in range(5):
        resp = await client.post("/internal/holds", json={"items": [
            {"kind": "flight", "flight_id": str(flight_id), "cabin": "economy",
             "quantity": 1}]}, headers={"X-Service-Token": TOKEN, "X-Customer-Id": "carol"})
        hold_id = (await resp.json())["id"]
        await client.delete(f"/internal/holds/{hold_id}",
                            headers={"X-Service-Token": TOKEN, "X-Customer-Id": "carol"})
        ids.append(hold_id)
    seen, cursor = [], None
    for _ in range(100):
        params = {"status": "released", "limit": "2", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get("/internal/admin/holds", params=params,
                                       headers=ADMIN)).json()
        assert {i["status"] for i in body["items"]} <= {"released"}
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert [i for i in seen if i in ids] == list(reversed(ids))
    bad = await client.get("/internal/admin/holds", params={"status": "lost"}, headers=ADMIN)
    assert bad.status == 422
