"""The models of messages between services: holds checkout reads, events it publishes."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from pydantic import ValidationError

from itinera.api.events import AnnouncedBooking, BookingEvent
from itinera.api.holds import HeldFlight, HeldRooms, Hold

FLIGHT = {"kind": "flight", "flight_id": "7", "cabin": "business", "quantity": 1,
          "unit_price": {"amount": 90000, "currency": "EUR"}}
HOTEL = {"kind": "hotel", "hotel_id": "12", "room_type": "double", "check_in": "2026-12-01",
         "check_out": "2026-12-04", "rooms": 2, "unit_price": {"amount": 30000, "currency": "EUR"}}
# A hold as inventory's internal API answers it (inventory/hold_rows.py).
HOLD = {"id": "f" * 32, "customer_id": "alice", "status": "active", "items": [FLIGHT, HOTEL],
        "total": {"amount": 150000, "currency": "EUR"}, "expires_at": "2026-11-27T09:15:00Z",
        "created_at": "2026-11-27T09:00:00Z", "booking_id": None}
# Byte for byte what checkout published before the event had a model (orjson of a dict).
PUBLISHED_BEFORE = orjson.dumps({
    "event_id": "b" * 32 + ":booking.confirmed", "event_type": "booking.confirmed",
    "occurred_at": "2026-11-27T09:00:01.000Z",
    "booking": {"booking_id": "b" * 32, "customer_id": "alice", "status": "confirmed",
                "items": [FLIGHT, HOTEL], "total": {"amount": 150000, "currency": "EUR"},
                "contact": {"email": "a@example.com", "name": "Alice"},
                "failure_reason": None}})


def test_a_hold_from_inventory_parses_into_typed_items() -> None:
    """Inventory's answer is the contract's Hold: flight and hotel items by kind, typed ids,
    dates and money."""
    hold = Hold.model_validate(HOLD)
    flight, hotel = hold.items
    assert isinstance(flight, HeldFlight) and flight.flight_id == 7
    assert isinstance(hotel, HeldRooms) and hotel.hotel_id == 12
    assert (hotel.check_in, hotel.nights, hotel.rooms) == (date(2026, 12, 1), 3, 2)
    assert hold.total.amount == 150000 and hold.booking_id is None
    assert hold.model_dump(mode="json") == HOLD


def test_a_hold_outside_the_contract_is_refused() -> None:
    """A hold with an unknown status or a mangled item does not parse."""
    with pytest.raises(ValidationError):
        Hold.model_validate({**HOLD, "status": "lost"})
    with pytest.raises(ValidationError):
        Hold.model_validate({**HOLD, "items": [{**HOTEL, "check_out": "2026-13-01"}]})


def test_the_event_reads_what_was_published_before_and_writes_it_again() -> None:
    """Events already on a queue parse, and the model writes the same bytes back."""
    event = BookingEvent.model_validate_json(PUBLISHED_BEFORE)
    assert isinstance(event.booking.items[1], HeldRooms)
    assert event.model_dump_json().encode() == PUBLISHED_BEFORE


def test_announcing_derives_the_id_and_type_from_the_status() -> None:
    """The same booking always gives the same event id, so consumers can drop duplicates."""
    booking = AnnouncedBooking.model_validate({
        "booking_id": "c" * 32, "customer_id": "bob", "status": "cancelled",
        "items": [HOTEL], "total": {"amount": 60000, "currency": "EUR"},
        "contact": {"email": "b@example.com"}})
    event = BookingEvent.announcing(booking, occurred_at="2026-11-28T10:00:00.000Z")
    assert (event.event_id, event.event_type) == ("c" * 32 + ":booking.cancelled",
                                                  "booking.cancelled")
    assert BookingEvent.model_validate_json(event.model_dump_json()) == event


def test_an_event_whose_id_or_type_does_not_follow_from_the_booking_is_refused() -> None:
    """A confirmed booking announced as failed, or under another id, is malformed."""
    base = orjson.loads(PUBLISHED_BEFORE)
    with pytest.raises(ValidationError, match="does not announce"):
        BookingEvent.model_validate({**base, "event_type": "booking.failed"})
    with pytest.raises(ValidationError, match="does not announce"):
        BookingEvent.model_validate({**base, "event_id": "other"})
