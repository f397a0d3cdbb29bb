"""The attacks travel sites meet, through the public entry: seat spinning and card testing are
refused past their limits with 429 and Retry-After, while other travellers and a family of
nine book as usual. A stack of its own runs the production limits per traveller (the local
stage widens only the per-address and per-card ones: localaws/config.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from localaws.cloudwatch.reader import local_reader
from tests.e2e import helpers
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import auth, book, wait_for_status
from tests.stacks import own_stack
from tests.waiting import eventually

# This stack's own flights: the session stack's tests draw from the same seeded catalog.
USED: set[str] = set()


async def find_flight(http: aiohttp.ClientSession, url: str, *, seats: int) -> dict[str, Any]:
    """Return a flight no other test of this stack has used."""
    return await helpers.find_flight(http, url, seats=seats, used=USED)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A local stack with the production limits per traveller (no test stage's raise)."""
    with own_stack("limits", tmp_path_factory.mktemp("limits-stack"),
                   env={"LIMITS": None}) as running:
        yield RunningStack.of(running)


GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
LIMIT_CODES = {"too_many_holds", "hold_renewals_exhausted", "too_many_active_holds",
               "too_many_units_held", "too_many_seats_on_flight", "too_many_rooms_on_night",
               "too_many_booking_attempts", "too_many_card_attempts", "too_many_declines",
               "card_declined_too_often"}


def someone(name: str) -> str:
    """Return a traveller of this test alone (budgets are per traveller)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def hold(http: aiohttp.ClientSession, stack: RunningStack, token: str,
               items: list[dict[str, Any]]) -> tuple[int, dict[str, Any], aiohttp.ClientResponse]:
    """POST a hold; return its status, body and response."""
    async with http.post(f"{stack.url}/v1/holds", headers=auth(token),
                         json={"items": items}) as resp:
        return resp.status, dict(await resp.json()), resp


def seats(flight_id: str, quantity: int, cabin: str = "economy") -> dict[str, Any]:
    """Return a hold item for *quantity* seats of a cabin."""
    return {"kind": "flight", "flight_id": flight_id, "cabin": cabin, "quantity": quantity}


def assert_refused(status: int, problem: dict[str, Any], response: aiohttp.ClientResponse,
                   code: str | None = None) -> None:
    """Assert a 429 limit problem with Retry-After, of *code* when given."""
    assert status == 429, problem
    assert response.content_type == "application/problem+json"
    assert problem["code"] in LIMIT_CODES and (code is None or problem["code"] == code), problem
    assert int(response.headers["Retry-After"]) >= 1 and problem["retry_after"] >= 1
    assert problem["limit"] and problem["request_id"]


async def test_one_traveller_cannot_hold_a_flight_others_still_can(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Seat spinning: nine seats on a flight, then one more is refused until the hold ends;
    another traveller still holds seats on it; releasing frees the spinner's cap at once."""
    flight = await find_flight(http, stack.url, seats=9)
    assert flight["available"] >= 11, "the spinner's nine and another traveller's two"
    spinner = stack.token(someone("spinner"))
    status, first, _ = await hold(http, stack, spinner, [seats(flight["id"], 9)])
    assert status == 201, first
    status, problem, resp = await hold(http, stack, spinner, [seats(flight["id"], 1)])
    assert_refused(status, problem, resp, "too_many_seats_on_flight")
    # The hold it waits for lasts 15 minutes: so does the refusal.
    assert 800 <= problem["retry_after"] <= 900
    status, other, _ = await hold(http, stack, stack.token(someone("traveller")),
                                  [seats(flight["id"], 2)])
    assert status == 201, other
    async with http.delete(f"{stack.url}/v1/holds/{first['id']}", headers=auth(spinner)) as r:
        assert r.status == 200
    status, again, _ = await hold(http, stack, spinner, [seats(flight["id"], 1)])
    assert status == 201, again


async def test_concurrent_holds_by_one_traveller_stop_at_the_caps(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Thirty concurrent one-seat holds by one traveller over six flights make exactly five
    holds (the cap on open holds); every other answer is a limit's 429, whichever request
    won which race."""
    flights = [await find_flight(http, stack.url, seats=5) for _ in range(6)]
    spinner = stack.token(someone("racer"))
    answers = await asyncio.gather(*(hold(http, stack, spinner, [seats(flights[n % 6]["id"], 1)])
                                     for n in range(30)))
    made = [body for status, body, _ in answers if status == 201]
    assert len(made) == 5
    for status, body, resp in answers:
        if status != 201:
            assert_refused(status, body, resp)


async def test_holding_many_flights_stops_at_the_seats_and_rooms_cap(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Nine seats on each of two flights is 18 held; nine more on a third would be 27, past
    the 24 one traveller may hold at once."""
    spinner = stack.token(someone("wide"))
    for _ in range(2):
        flight = await find_flight(http, stack.url, seats=9)
        status, body, _ = await hold(http, stack, spinner, [seats(flight["id"], 9)])
        assert status == 201, body
    flight = await find_flight(http, stack.url, seats=9)
    status, problem, resp = await hold(http, stack, spinner, [seats(flight["id"], 9)])
    assert_refused(status, problem, resp, "too_many_units_held")


async def test_re_holding_one_flight_as_each_hold_ends_is_bounded(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """A traveller may hold and release one flight four times in six hours; the fifth hold on
    it is refused, while holds on other flights still pass."""
    flight = await find_flight(http, stack.url, seats=9)
    spinner = stack.token(someone("renewer"))
    for _ in range(4):
        status, body, _ = await hold(http, stack, spinner, [seats(flight["id"], 9)])
        assert status == 201, body
        async with http.delete(f"{stack.url}/v1/holds/{body['id']}",
                               headers=auth(spinner)) as resp:
            assert resp.status == 200
    status, problem, resp = await hold(http, stack, spinner, [seats(flight["id"], 9)])
    assert_refused(status, problem, resp, "hold_renewals_exhausted")
    other = await find_flight(http, stack.url, seats=1)
    status, body, _ = await hold(http, stack, spinner, [seats(other["id"], 1)])
    assert status == 201, body


async def test_a_family_of_nine_in_two_cabins_with_a_hotel_books(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Five economy and four business seats on one flight and rooms for nine in one hotel, in
    one hold, are held and confirmed: the caps leave a family alone."""
    flight = await find_flight(http, stack.url, seats=5)
    async with http.get(f"{stack.url}/v1/flights/{flight['id']}") as resp:
        cabins = {c["cabin"]: c["available"] for c in (await resp.json())["cabins"]}
    assert cabins["business"] >= 4, cabins
    check_in = date.fromisoformat(flight["arrival_local"][:10])
    check_out = check_in + timedelta(days=3)
    async with http.get(f"{stack.url}/v1/hotels", params={
            "city": "New York", "check_in": check_in.isoformat(),
            "check_out": check_out.isoformat(), "guests": "9"}) as resp:
        assert resp.status == 200, await resp.text()
        hotels = (await resp.json())["items"]
    hotel, room = next((h, r) for h in hotels for r in h["room_types"] if r["rooms"] <= 6)
    family = stack.token(someone("family"))
    status, held, _ = await hold(http, stack, family, [
        seats(flight["id"], 5), seats(flight["id"], 4, "business"),
        {"kind": "hotel", "hotel_id": hotel["id"], "room_type": room["code"],
         "check_in": check_in.isoformat(), "check_out": check_out.isoformat(),
         "rooms": room["rooms"]}])
    assert status == 201, held
    status, started = await book(http, stack.url, family, held["id"], GOOD_CARD)
    assert status == 202, started
    booking = await wait_for_status(http, stack.url, family, started["booking_id"])
    assert booking["status"] == "confirmed", booking


async def test_card_testing_with_many_cards_is_refused_after_the_attempts_budget(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Twenty checkouts by one traveller with twenty different valid cards: ten are taken in
    (each answered by the booking rules), the other ten are 429 with Retry-After."""
    flight = await find_flight(http, stack.url, seats=1)
    tester = stack.token(someone("card-tester"))
    status, held, _ = await hold(http, stack, tester, [seats(flight["id"], 1)])
    assert status == 201, held
    answers = []
    for card in valid_cards(20):
        async with http.post(f"{stack.url}/v1/bookings", headers={
                **auth(tester), "Idempotency-Key": uuid.uuid4().hex}, json={
                "hold_id": held["id"], "payment": {"card_number": card},
                "contact": {"email": "tester@example.com"}}) as resp:
            answers.append((resp.status, dict(await resp.json()), resp))
    # The first books the hold; the next nine are refused by the hold (already booked).
    assert [s for s, _, _ in answers[:10]] == [202] + [409] * 9
    for status, problem, resp in answers[10:]:
        assert_refused(status, problem, resp, "too_many_booking_attempts")


async def test_a_traveller_whose_cards_keep_being_declined_is_stopped(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Five declined checkouts, each waited out: the sixth is refused before any card is
    charged, with Retry-After; another traveller books meanwhile."""
    tester = stack.token(someone("decliner"))
    for _ in range(5):
        flight = await find_flight(http, stack.url, seats=1)
        status, held, _ = await hold(http, stack, tester, [seats(flight["id"], 1)])
        assert status == 201, held
        status, started = await book(http, stack.url, tester, held["id"], DECLINED_CARD)
        assert status == 202, started
        failed = await wait_for_status(http, stack.url, tester, started["booking_id"])
        assert failed["failure_reason"] == "payment_declined"
    flight = await find_flight(http, stack.url, seats=1)
    status, held, _ = await hold(http, stack, tester, [seats(flight["id"], 1)])
    assert status == 201, held
    async with http.post(f"{stack.url}/v1/bookings", headers={
            **auth(tester), "Idempotency-Key": uuid.uuid4().hex}, json={
            "hold_id": held["id"], "payment": {"card_number": GOOD_CARD},
            "contact": {"email": "tester@example.com"}}) as resp:
        assert_refused(resp.status, dict(await resp.json()), resp, "too_many_declines")
    other = stack.token(someone("bystander"))
    status, theirs, _ = await hold(http, stack, other, [seats(flight["id"], 1)])
    assert status == 201, theirs
    status, started = await book(http, stack.url, other, theirs["id"], GOOD_CARD)
    assert status == 202, started


def valid_cards(n: int) -> list[str]:
    """Return *n* distinct Visa numbers that pass the Luhn check (the simulator charges them)."""
    cards = []
    for body in range(400000000000001, 400000000000001 + n):
        digits = str(body)
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 == 0 else 1)
            total += d - 9 if d > 9 else d
        cards.append(digits + str((10 - total % 10) % 10))
    return cards


async def test_refusals_are_counted_per_limit_in_cloudwatch(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """A refused hold reaches CloudWatch as Itinera/Limits LimitExceeded, per limit (what the
    Business dashboard draws) and per service (what the alarm adds up)."""
    started = datetime.now(UTC) - timedelta(minutes=1)
    flight = await find_flight(http, stack.url, seats=9)
    spinner = stack.token(someone("counted"))
    status, body, _ = await hold(http, stack, spinner, [seats(flight["id"], 9)])
    assert status == 201, body
    status, problem, resp = await hold(http, stack, spinner, [seats(flight["id"], 9)])
    assert_refused(status, problem, resp, "too_many_seats_on_flight")

    def query(qid: str, dims: dict[str, str]) -> dict[str, Any]:
        return {"Id": qid, "MetricStat": {"Metric": {
            "Namespace": "Itinera/Limits", "MetricName": "LimitExceeded",
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
            "Period": 60, "Stat": "Sum"}}

    reader = local_reader(stack.config.state_dir, stack.config.moto_url, stack.config.region,
                          credentials=stack.stack.aws_credentials())
    queries = [query("policy", {"Policy": "flight-seats", "Service": "gateway"}),
               query("service", {"Service": "gateway"})]

    def counted() -> bool:
        found = reader.get_metric_data(queries, started,
                                       datetime.now(UTC) + timedelta(minutes=1))
        return all(sum(v for _, v in found[q["Id"]]) >= 1 for q in queries)

    await eventually(counted, within=60, what="LimitExceeded in CloudWatch")
