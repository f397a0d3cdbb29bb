"""Validating search queries and hold bodies at the edge."""

from __future__ import annotations

from datetime import date

import pytest
from multidict import MultiDict

from inventory.errors import InvalidCursor, InvalidHoldItems, InvalidPassengers, UnknownAirport
from inventory.params import FlightItem, parse_hold_items, parse_search
from itinera.errors import BadRequest, ItineraError

BASE = {"origin": "lhr", "destination": "JFK", "date": "2030-01-02"}


def test_search_defaults() -> None:
    """Codes are upper-cased; passengers, cabin and limit default to 1, economy and 20."""
    query = parse_search(MultiDict(BASE))
    assert (query.origin, query.destination, query.date) == ("LHR", "JFK", date(2030, 1, 2))
    assert (query.passengers, query.cabin, query.limit, query.cursor) == (1, "economy", 20, None)


@pytest.mark.parametrize(("extra", "error"), [
    ({"foo": "1"}, BadRequest),
    ({"date": "2030-1-2"}, BadRequest),
    ({"date": "20300102"}, BadRequest),
    ({"origin": "LH"}, UnknownAirport),
    ({"passengers": "0"}, InvalidPassengers),
    ({"passengers": "10"}, InvalidPassengers),
    ({"passengers": "two"}, BadRequest),
    ({"cursor": "zzz"}, InvalidCursor),
])
def test_bad_search_inputs(extra: dict[str, str], error: type[ItineraError]) -> None:
    """Each malformed input raises the error carrying its stable code."""
    with pytest.raises(error):
        parse_search(MultiDict({**BASE, **extra}))


def test_repeated_parameter_is_rejected() -> None:
    """A parameter given twice is ambiguous, so it is a 400."""
    with pytest.raises(BadRequest):
        parse_search(MultiDict([*BASE.items(), ("origin", "CDG")]))


def test_hold_items_are_parsed() -> None:
    """Flight ids may be strings or integers; quantities stay as sent."""
    items = parse_hold_items({"items": [
        {"kind": "flight", "flight_id": "12", "cabin": "economy", "quantity": 2},
        {"kind": "flight", "flight_id": 7, "cabin": "business", "quantity": 1}]})
    assert items == [FlightItem(12, "economy", 2), FlightItem(7, "business", 1)]


@pytest.mark.parametrize(("body", "error"), [
    ({"items": [], "total": 1}, BadRequest),
    ({"items": []}, InvalidHoldItems),
    ({"items": [{"kind": "flight", "flight_id": "1", "cabin": "economy", "quantity": 1,
                 "unit_price": 1}]}, BadRequest),
    ({"items": [{"kind": "hotel", "flight_id": "1", "cabin": "economy", "quantity": 1}]},
     BadRequest),
    ({"items": [{"kind": "train", "train_id": "1"}]}, InvalidHoldItems),
    ({"items": [{"kind": "flight", "flight_id": "1", "cabin": "economy", "quantity": 10}]},
     InvalidHoldItems),
    ({"items": [{"kind": "flight", "flight_id": "1", "cabin": "economy", "quantity": True}]},
     InvalidHoldItems),
    ({"items": [{"kind": "flight", "flight_id": "1", "cabin": "economy", "quantity": 1}] * 2},
     InvalidHoldItems),
    ({"items": [{"kind": "flight", "flight_id": "1", "cabin": "economy", "quantity": 1}] * 6},
     InvalidHoldItems),
])
def test_bad_hold_bodies(body: dict[str, object], error: type[ItineraError]) -> None:
    """Unknown fields (a client price included) are 400s; impossible items are 422s."""
    with pytest.raises(error):
        parse_hold_items(body)
