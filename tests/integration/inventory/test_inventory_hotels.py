"""Hotel search, details and holds that mix flight seats and room nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.waiting import eventually

from .conftest import TOKEN

Client = TestClient[Any, Any]
HEADERS = {"X-Service-Token": TOKEN, "X-Customer-Id": "alice"}


def start() -> date:
    """Return the first night make_hotel seeds (three days ahead)."""
    return datetime.now(UTC).date() + timedelta(days=3)


def stay(first: int = 0, nights: int = 3) -> dict[str, str]:
    """Return check_in/check_out *first* days after start() for *nights* nights."""
    check_in = start() + timedelta(days=first)
    return {"check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=nights)).isoformat()}


def room(hotel_id: int, code: str = "double", rooms: int = 1, **dates: str) -> dict[str, Any]:
    """Return a hotel hold item."""
    return {"kind": "hotel", "hotel_id": str(hotel_id), "room_type": code, "rooms": rooms,
            **(dates or stay())}


async def test_search_needs_every_night_and_sums_the_rates(client: Client,
                                                           make_hotel: Any) -> None:
    """A room type with one full night is left out; the price is rooms x the nightly rates."""
    full_night = await make_hotel(city="Searchton", nights={
        "double": [(10, 10, 100_00), (10, 0, 100_00), (10, 10, 100_00)]})
    free = await make_hotel(city="Searchton", nights={
        "double": [(10, 10, 100_00), (10, 10, 150_00), (10, 10, 100_00)],
        "single": [(10, 1, 80_00), (10, 1, 80_00), (10, 1, 80_00)]},
        max_guests={"double": 2, "single": 1})
    resp = await client.get("/v1/hotels", params={"city": "Searchton", "guests": "2", **stay()})
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert [i["id"] for i in items] == [str(free)]
    hotel = items[0]
    # two guests: one double (2 guests) at 350.00, or two singles, but only 1 single is left.
    assert [(r["code"], r["rooms"], r["price"]["amount"]) for r in hotel["room_types"]] == [
        ("double", 1, 350_00)]
    assert hotel["price"] == {"amount": 350_00, "currency": "EUR"} and hotel["nights"] == 3
    one = await client.get("/v1/hotels", params={"city": "Searchton", "guests": "1", **stay()})
    codes = {r["code"]: r["price"]["amount"] for r in (await one.json())["items"][0]["room_types"]}
    assert codes == {"single": 240_00, "double": 350_00}
    assert str(full_night) not in [i["id"] for i in (await one.json())["items"]]


async def test_hotel_search_pages_by_price_then_id(client: Client, make_hotel: Any) -> None:
    """Walking pages of two gives every hotel once, cheapest first, ties by id."""
    rates = [300, 100, 200, 100, 250]
    made = [await make_hotel(city="Pageville", nights={"double": [(5, 5, r * 100)] * 2})
            for r in rates]
    expected = [str(h) for _, h in sorted(zip(rates, made, strict=True))]
    seen, cursor = [], None
    for _ in range(5):
        params = {"city": "Pageville", **stay(0, 2), "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        body = await (await client.get("/v1/hotels", params=params)).json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == expected


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"city": "Searchton", **stay(0, 0)}, 422, "invalid_stay"),
    ({"city": "Searchton", "check_in": stay(2)["check_in"], "check_out": stay(0)["check_in"]},
     422, "invalid_stay"),
    ({"city": "Searchton", **stay(0, 31)}, 422, "invalid_stay"),
    ({"city": "Atlantis", **stay()}, 422, "unknown_city"),
    ({"city": "Searchton", **stay(), "guests": "0"}, 422, "invalid_guests"),
    ({"city": "Searchton", **stay(), "guests": "10"}, 422, "invalid_guests"),
    ({"city": "Searchton", **stay(), "stars": "5"}, 400, "bad_request"),
    ({"city": "Searchton", "check_in": "2031-02-30", "check_out": "2031-03-02"}, 400,
     "bad_request"),
    ({"city": "Searchton", **stay(), "sort": "stars"}, 400, "invalid_sort"),
])
async def test_bad_hotel_searches(client: Client, make_hotel: Any, params: dict[str, str],
                                  status: int, code: str) -> None:
    """Bad stays, unknown cities, guest counts and parameters give stable problem codes."""
    await make_hotel(city="Searchton", nights={"double": [(5, 5, 100_00)] * 3})
    resp = await client.get("/v1/hotels", params=params)
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == code


async def test_hotel_details_show_live_nights(client: Client, make_hotel: Any) -> None:
    """Details list each night's availability and rate, and a hold shows there at once."""
    hotel_id = await make_hotel(nights={"double": [(5, 5, 100_00), (5, 2, 110_00)]})
    params = stay(0, 2)
    body = await (await client.get(f"/v1/hotels/{hotel_id}", params=params)).json()
    double = body["room_types"][0]
    assert [n["available"] for n in double["nights"]] == [5, 2]
    assert double["price"] == {"amount": 210_00, "currency": "EUR"} and double["bookable"]
    assert (await client.post("/internal/holds", json={"items": [room(hotel_id, rooms=2,
                                                                      **params)]},
                              headers=HEADERS)).status == 201
    body = await (await client.get(f"/v1/hotels/{hotel_id}", params=params)).json()
    assert [n["available"] for n in body["room_types"][0]["nights"]] == [3, 0]
    assert (await client.get("/v1/hotels/9999999999999")).status == 404
    assert (await client.get("/v1/hotels/x1")).status == 404


async def test_mixed_hold_is_all_or_nothing(client: Client, make_flight: Any, make_hotel: Any,
                                            counts: Any, night_counts: Any) -> None:
    """A flight plus a stay with one sold-out night holds neither; with room, holds both."""
    flight_id = await make_flight(economy=10, fare=200_00)
    tight = await make_hotel(nights={"double": [(5, 5, 100_00), (5, 0, 100_00)]})
    seat = {"kind": "flight", "flight_id": str(flight_id), "cabin": "economy", "quantity": 2}
    refused = await client.post("/internal/holds", headers=HEADERS,
                                json={"items": [seat, room(tight, **stay(0, 2))]})
    assert refused.status == 409 and (await refused.json())["code"] == "sold_out"
    assert (await counts(flight_id))["available"] == 10
    assert [n["available"] for n in await night_counts(tight, "double")] == [5, 0]
    roomy = await make_hotel(nights={"double": [(5, 5, 100_00), (5, 5, 130_00)]})
    made = await client.post("/internal/holds", headers=HEADERS,
                             json={"items": [room(roomy, rooms=2, **stay(0, 2)), seat]})
    assert made.status == 201
    hold = await made.json()
    assert hold["total"] == {"amount": 2 * 230_00 + 2 * 200_00, "currency": "EUR"}
    assert hold["items"][0] == {**room(roomy, rooms=2, **stay(0, 2)),
                                "unit_price": {"amount": 230_00, "currency": "EUR"}}
    assert await night_counts(roomy, "double") == [
        {"capacity": 5, "available": 3, "held": 2, "sold": 0}] * 2
    released = await client.delete(f"/internal/holds/{hold['id']}", headers=HEADERS)
    assert (await released.json())["status"] == "released"
    assert [n["available"] for n in await night_counts(roomy, "double")] == [5, 5]
    assert (await counts(flight_id))["available"] == 10


async def test_confirm_then_cancel_moves_room_nights(client: Client, make_hotel: Any,
                                                     night_counts: Any) -> None:
    """Confirm sells each night once (twice is once); cancel gives the nights back once."""
    hotel_id = await make_hotel(nights={"double": [(6, 6, 100_00)] * 3})
    hold_id = (await (await client.post("/internal/holds", headers=HEADERS,
                                        json={"items": [room(hotel_id, rooms=2)]})).json())["id"]
    service = {"X-Service-Token": TOKEN}
    for _ in range(2):
        resp = await client.post(f"/internal/holds/{hold_id}/confirm", headers=service,
                                 json={"booking_id": "bk-h1"})
        assert resp.status == 200
    assert await night_counts(hotel_id, "double") == [
        {"capacity": 6, "available": 4, "held": 0, "sold": 2}] * 3
    for _ in range(2):
        resp = await client.post(f"/internal/holds/{hold_id}/cancel", headers=service,
                                 json={"booking_id": "bk-h1"})
        assert resp.status == 200 and (await resp.json())["status"] == "cancelled"
    assert await night_counts(hotel_id, "double") == [
        {"capacity": 6, "available": 6, "held": 0, "sold": 0}] * 3


async def test_expired_hotel_hold_gives_nights_back(start_client: Any, make_hotel: Any,
                                                    night_counts: Any) -> None:
    """The sweeper expires an overdue hotel hold; its nights return and confirm then fails."""
    hotel_id = await make_hotel(nights={"double": [(4, 4, 100_00)] * 3})
    async with start_client(hold_ttl_seconds=1, sweep_interval_seconds=0.2) as client:
        hold_id = (await (await client.post("/internal/holds", headers=HEADERS,
                                            json={"items": [room(hotel_id, rooms=3)]})).json()
                   )["id"]

        async def nights_back() -> bool:
            counts = await night_counts(hotel_id, "double")
            assert counts == [{"capacity": 4, "available": 4, "held": 0, "sold": 0}] * 3, counts
            return True

        await eventually(nights_back, within=10, what="the sweeper gave the nights back")
        late = await client.post(f"/internal/holds/{hold_id}/confirm",
                                 headers={"X-Service-Token": TOKEN}, json={"booking_id": "b"})
        assert late.status == 409 and (await late.json())["code"] == "hold_not_active"


@pytest.mark.parametrize(("item", "status", "code"), [
    ({"hotel_id": "9999999999999"}, 422, "unknown_hotel"),
    ({"room_type": "penthouse"}, 422, "unknown_hotel"),
    ({"check_in": "2020-01-01", "check_out": "2020-01-03"}, 422, "date_in_past"),
    ({"rooms": 0}, 422, "invalid_hold_items"),
    ({"price": 1}, 400, "bad_request"),
])
async def test_bad_hotel_items(client: Client, make_hotel: Any, item: dict[str, Any],
                               status: int, code: str) -> None:
    """Unknown hotels or room types, past stays and bad fields are refused, changing nothing."""
    hotel_id = await make_hotel(nights={"double": [(4, 4, 100_00)] * 3})
    resp = await client.post("/internal/holds", headers=HEADERS,
                             json={"items": [{**room(hotel_id), **item}]})
    assert resp.status == status and (await resp.json())["code"] == code
