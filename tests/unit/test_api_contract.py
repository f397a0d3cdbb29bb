"""The contract's models: what they accept, the codes of what they refuse, and round trips."""

from __future__ import annotations

from datetime import date, time
from typing import Any

import orjson
import pytest
from multidict import MultiDict

from gateway.routes import OPERATIONS
from gateway.views import query_string
from itinera.api.admin import NewFlight, NewHotel, NightsCapacity
from itinera.api.bookings import BookingRequest, idempotency_key
from itinera.api.errors import (
    InvalidCursor,
    InvalidHoldItems,
    InvalidPassengers,
    InvalidStay,
    MissingIdempotencyKey,
    UnknownAirport,
)
from itinera.api.holds import FlightItem, HoldRequest
from itinera.api.search import FlightSearch, HotelSearch
from itinera.api.types import Contract
from itinera.api.validation import parse_body, parse_query
from itinera.errors import BadRequest, ItineraError, UnsupportedMediaType, ValidationFailed

BASE = {"origin": "lhr", "destination": "JFK", "date": "2030-01-02"}
JSON = "application/json"
FLIGHT_ITEM = {"kind": "flight", "flight_id": "12", "cabin": "economy", "quantity": 2}
BOOKING = {"hold_id": "a" * 32, "payment": {"card_number": "4242424242424242"},
           "contact": {"email": "a@example.com", "name": "A"}}


def body(data: Any) -> bytes:
    """Return *data* as a JSON body."""
    return orjson.dumps(data)


def test_search_defaults_and_codes_in_any_case() -> None:
    """Codes are upper-cased; passengers, cabin and limit default to 1, economy and 20."""
    query = parse_query(FlightSearch, MultiDict(BASE))
    assert (query.origin, query.destination, query.date) == ("LHR", "JFK", date(2030, 1, 2))
    assert (query.passengers, query.cabin, query.limit, query.cursor) == (1, "economy", 20, None)


@pytest.mark.parametrize(("extra", "error"), [
    ({"foo": "1"}, BadRequest),
    ({"date": "2030-1-2"}, BadRequest),
    ({"date": "20300102"}, BadRequest),
    ({"date": "2030-02-30"}, BadRequest),
    ({"origin": "LH"}, UnknownAirport),
    ({"passengers": "0"}, InvalidPassengers),
    ({"passengers": "10"}, InvalidPassengers),
    ({"passengers": "two"}, BadRequest),
    ({"passengers": "1.0"}, BadRequest),
    ({"passengers": ""}, BadRequest),
    ({"cursor": "not a cursor"}, InvalidCursor),
    ({"depart_after": "25:00"}, BadRequest),
    ({"depart_after": "10:00", "depart_before": "09:00"}, ValidationFailed),
    ({"destination": "LHR"}, ValidationFailed),
])
def test_bad_search_inputs(extra: dict[str, str], error: type[ItineraError]) -> None:
    """Each malformed input is a 400; each impossible one carries its field's 422 code."""
    with pytest.raises(error) as caught:
        parse_query(FlightSearch, MultiDict({**BASE, **extra}))
    assert caught.value.status == error.status and caught.value.code == error.code


def test_repeated_parameter_is_rejected() -> None:
    """A parameter given twice is ambiguous, so it is a 400."""
    with pytest.raises(BadRequest):
        parse_query(FlightSearch, MultiDict([*BASE.items(), ("origin", "CDG")]))


def test_a_refusal_lists_every_invalid_field() -> None:
    """The problem names each invalid field with a message, for clients to show."""
    with pytest.raises(ValidationFailed) as caught:
        parse_query(FlightSearch, MultiDict({**BASE, "passengers": "0", "limit": "99"}))
    fields = {e["field"] for e in caught.value.problem()["errors"]}
    assert fields == {"passengers", "limit"}


def test_hotel_stays_must_move_forward_and_stay_short() -> None:
    """Check-out before check-in, or more than 30 nights, is `invalid_stay`."""
    for check_out in ("2030-01-01", "2030-03-01"):
        with pytest.raises(InvalidStay):
            parse_query(HotelSearch, MultiDict(city="London", check_in="2030-01-02",
                                               check_out=check_out))


def test_hold_items_are_parsed() -> None:
    """Flight ids arrive as digit strings and become integers; quantities stay as sent."""
    request = parse_body(HoldRequest, body({"items": [
        FLIGHT_ITEM, {**FLIGHT_ITEM, "flight_id": "7", "cabin": "business", "quantity": 1}]}),
        JSON)
    assert [(i.flight_id, i.cabin, i.quantity) for i in request.items
            if isinstance(i, FlightItem)] == [(12, "economy", 2), (7, "business", 1)]


@pytest.mark.parametrize(("data", "error"), [
    ({"items": [], "total": 1}, BadRequest),
    ({"items": []}, InvalidHoldItems),
    ({"items": [{**FLIGHT_ITEM, "unit_price": 1}]}, BadRequest),
    ({"items": [{"kind": "hotel", "flight_id": "1", "cabin": "economy", "quantity": 1}]},
     BadRequest),
    ({"items": [{"kind": "train", "train_id": "1"}]}, InvalidHoldItems),
    ({"items": [{"cabin": "economy"}]}, InvalidHoldItems),
    ({"items": [{**FLIGHT_ITEM, "quantity": 10}]}, InvalidHoldItems),
    ({"items": [{**FLIGHT_ITEM, "quantity": True}]}, BadRequest),
    ({"items": [{**FLIGHT_ITEM, "quantity": "2"}]}, BadRequest),
    ({"items": [{**FLIGHT_ITEM, "quantity": 1.5}]}, BadRequest),
    ({"items": [{**FLIGHT_ITEM, "flight_id": 12}]}, BadRequest),
    ({"items": [{**FLIGHT_ITEM, "flight_id": "../../internal"}]}, BadRequest),
    ({"items": [FLIGHT_ITEM] * 2}, InvalidHoldItems),
    ({"items": [{**FLIGHT_ITEM, "flight_id": str(n)} for n in range(1, 7)]}, InvalidHoldItems),
    ([1, 2], BadRequest),
])
def test_bad_hold_bodies(data: Any, error: type[ItineraError]) -> None:
    """Unknown fields (a client price included) and wrong types are 400s; impossible items 422."""
    with pytest.raises(error) as caught:
        parse_body(HoldRequest, body(data), JSON)
    assert caught.value.code == error.code


def test_integers_may_be_written_as_whole_floats() -> None:
    """JSON Schema counts 2.0 as an integer, so the edge accepts it as 2."""
    request = parse_body(HoldRequest, body({"items": [{**FLIGHT_ITEM, "quantity": 2.0}]}), JSON)
    assert request.items[0].quantity == 2 and isinstance(request.items[0].quantity, int)


def test_bodies_must_be_declared_json() -> None:
    """A body sent as text/plain (or with no Content-Type) is refused with 415."""
    for content_type in ("text/plain", None, "application/x-www-form-urlencoded"):
        with pytest.raises(UnsupportedMediaType):
            parse_body(HoldRequest, body({"items": [FLIGHT_ITEM]}), content_type)
    assert parse_body(HoldRequest, body({"items": [FLIGHT_ITEM]}),
                      "application/json; charset=utf-8").items


@pytest.mark.parametrize("raw", [b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000, b"", b"{"])
def test_bodies_that_are_not_json_are_400(raw: bytes) -> None:
    """Invalid UTF-8, nesting past the parser's depth limit, nothing, or half a document: 400."""
    with pytest.raises(BadRequest):
        parse_body(HoldRequest, raw, JSON)


def test_booking_request_validation() -> None:
    """Unknown fields and wrong types are 400; a bad hold id, card or e-mail is 422."""
    assert parse_body(BookingRequest, body(BOOKING), JSON).hold_id == "a" * 32
    with pytest.raises(BadRequest):
        parse_body(BookingRequest, body({**BOOKING, "price": 1}), JSON)
    with pytest.raises(BadRequest):
        parse_body(BookingRequest, body({**BOOKING, "payment": None}), JSON)
    for bad in ({**BOOKING, "hold_id": "x"}, {**BOOKING, "payment": {"card_number": "42x"}},
                {**BOOKING, "contact": {"email": "nope"}},
                # Mail syntax SES would read as no address at all (found by fuzzing).
                {**BOOKING, "contact": {"email": "a,b@example.com"}},
                {**BOOKING, "contact": {"email": '"a b"@example.com'}},
                {**BOOKING, "contact": {"email": "a(c)@example.com"}},
                {**BOOKING, "contact": {"email": "a@example.com", "name": "A\x00"}}):
        with pytest.raises(ValidationFailed):
            parse_body(BookingRequest, body(bad), JSON)


def test_idempotency_keys() -> None:
    """A missing key has its own code; a malformed one is a plain 400."""
    assert idempotency_key("key-12345") == "key-12345"
    with pytest.raises(MissingIdempotencyKey):
        idempotency_key(None)
    with pytest.raises(BadRequest):
        idempotency_key("short")


ROUND_TRIPS: list[tuple[type[Contract], dict[str, Any]]] = [
    (HoldRequest, {"items": [FLIGHT_ITEM, {"kind": "hotel", "hotel_id": "3", "room_type": "std",
                                           "check_in": "2030-01-02", "check_out": "2030-01-04",
                                           "rooms": 1}]}),
    (BookingRequest, BOOKING),
    (NewFlight, {"flight_no": "IT123", "carrier": "IT", "origin": "LHR", "destination": "JFK",
                 "departure_local": "2030-01-02T10:30",
                 "cabins": [{"cabin": "economy", "capacity": 100,
                             "fare": {"amount": 9900, "currency": "EUR"}}]}),
    (NewHotel, {"name": "Inn", "city": "London", "country": "GB", "tz": "Europe/London",
                "stars": 3, "lat": 51.5, "lon": -0.1,
                "room_types": [{"code": "std", "name": "Standard", "max_guests": 2,
                                "capacity": 10, "rate": {"amount": 9000, "currency": "EUR"}}],
                "nights": {"from": "2030-01-01", "to": "2030-02-01"}}),
    (NightsCapacity, {"from": "2030-01-01", "to": "2030-01-05", "capacity": 3}),
]


@pytest.mark.parametrize(("model", "data"), ROUND_TRIPS, ids=lambda v: getattr(v, "__name__", ""))
def test_bodies_survive_the_gateways_reserialisation(model: type[Contract],
                                                     data: dict[str, Any]) -> None:
    """What the gateway forwards (the model dumped again) parses to the same model upstream."""
    parsed = parse_body(model, body(data), JSON)
    again = parse_body(model, parsed.model_dump_json(by_alias=True).encode(), JSON)
    assert again == parsed


def test_queries_survive_the_gateways_reserialisation() -> None:
    """A query rebuilt from its typed values parses to the same model upstream."""
    query = parse_query(FlightSearch, MultiDict({**BASE, "depart_after": "08:05",
                                                 "passengers": "3", "max_price": "0"}))
    rebuilt = query_string(query)
    assert rebuilt.startswith("?") and "%" not in rebuilt.replace("%3A", "")
    again = parse_query(FlightSearch, MultiDict(_split(rebuilt)))
    assert again == query and again.depart_after == time(8, 5)
    hotel = parse_query(HotelSearch, MultiDict(city="São Paulo #2", check_in="2030-01-02",
                                               check_out="2030-01-04"))
    assert parse_query(HotelSearch, MultiDict(_split(query_string(hotel)))) == hotel


def _split(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query.removeprefix("?"), keep_blank_values=True)


def test_every_path_parameter_is_constrained() -> None:
    """No route lets a path parameter hold `/`, `..` or `%`, so nothing climbs paths upstream."""
    import re

    from gateway.operations import PATH_PARAMS

    hostile = ["..", "../internal", "1/2", "..%2F..%2Finternal", "a b", "870\n", ""]
    for op in OPERATIONS:
        for name in re.findall(r"\{(\w+)\}", op.path):
            pattern = PATH_PARAMS[name][0]
            assert f"{{{name}:{pattern}}}" in op.route
            assert not any(re.fullmatch(pattern, value) for value in hostile), (name, pattern)
