"""What travellers read: e-mail text and itineraries, from booking events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from itinera.api.events import BookingEvent
from itinera.api.types import Money
from notifier.messages import (
    MalformedEvent,
    email_for,
    itinerary_for,
    money,
    parse_delivery,
    parse_sns_envelope,
)

BOOKING_ID = "b1" * 16
FLIGHT = {"kind": "flight", "flight_id": "7", "cabin": "economy", "quantity": 2,
          "unit_price": {"amount": 61702, "currency": "EUR"}}
HOTEL = {"kind": "hotel", "hotel_id": "12", "room_type": "double", "check_in": "2026-12-01",
         "check_out": "2026-12-04", "rooms": 2, "unit_price": {"amount": 30000, "currency": "EUR"}}
EVENT: dict[str, Any] = {
    "event_id": f"{BOOKING_ID}:booking.confirmed", "event_type": "booking.confirmed",
    "occurred_at": "2026-11-27T09:00:01.000Z",
    "booking": {"booking_id": BOOKING_ID, "customer_id": "alice", "status": "confirmed",
                "items": [FLIGHT], "total": {"amount": 123405, "currency": "EUR"},
                "contact": {"email": "a@example.com", "name": "Alice"},
                "failure_reason": None}}


def _event(**booking: Any) -> BookingEvent:
    return BookingEvent.model_validate({**EVENT, "booking": {**EVENT["booking"], **booking}})


def test_money_formats_minor_units() -> None:
    """Minor units print with two decimals and the currency."""
    assert money(Money(amount=123405, currency="EUR")) == "1234.05 EUR"
    assert money(Money(amount=7, currency="USD")) == "0.07 USD"


def test_confirmation_email_names_booking_and_amount() -> None:
    """The confirmation says confirmed, names the booking and the amount paid."""
    subject, body = email_for(_event())
    assert "confirmed" in subject
    assert BOOKING_ID in body and "1234.05 EUR" in body
    assert "- flight 7 economy x2" in body


def test_a_hotel_stay_is_named_with_its_room_type_rooms_and_dates() -> None:
    """A hotel item reads as the stay it is, not as a flight line without a flight."""
    _, body = email_for(_event(items=[FLIGHT, HOTEL]))
    assert "- hotel 12 double, 2 rooms, 2026-12-01 to 2026-12-04 (3 nights)" in body
    assert "hotel x1" not in body and "hotel  " not in body
    _, single = email_for(_event(items=[{**HOTEL, "rooms": 1, "check_out": "2026-12-02"}]))
    assert "- hotel 12 double, 1 room, 2026-12-01 to 2026-12-02 (1 night)" in single


def test_failure_email_says_not_charged() -> None:
    """A failed booking's e-mail gives the reason and says the traveller was not charged."""
    event = BookingEvent.model_validate({
        **EVENT, "event_type": "booking.failed", "event_id": f"{BOOKING_ID}:booking.failed",
        "booking": {**EVENT["booking"], "status": "failed",
                    "failure_reason": "payment_declined"}})
    subject, body = email_for(event)
    assert "could not be completed" in subject
    assert "payment_declined" in body and "not charged" in body


def test_sns_envelope_is_unwrapped() -> None:
    """An SNS notification delivered through SQS yields the event inside it, validated."""
    envelope = json.dumps({"Type": "Notification", "Message": json.dumps(EVENT)})
    assert parse_sns_envelope(envelope) == BookingEvent.model_validate(EVENT)
    assert parse_sns_envelope(json.dumps(EVENT)) == BookingEvent.model_validate(EVENT)


@pytest.mark.parametrize("change", [
    {"booking": {**EVENT["booking"], "items": [{**HOTEL, "check_in": "tomorrow"}]}},
    {"booking": {**EVENT["booking"], "items": [{**FLIGHT, "kind": "train"}]}},
    {"booking": {k: v for k, v in EVENT["booking"].items() if k != "contact"}},
    {"event_type": "booking.cancelled"},
    {"surprise": True},
], ids=["hotel-date", "unknown-kind", "no-contact", "type-not-status", "unknown-field"])
def test_a_malformed_event_is_refused_naming_the_field_not_the_value(
        change: dict[str, Any]) -> None:
    """A delivery that is not a booking event raises MalformedEvent, which leaves the message
    on the queue for the DLQ; the error names the fields but quotes no traveller's data."""
    envelope = json.dumps({"Type": "Notification", "Message": json.dumps({**EVENT, **change})})
    with pytest.raises(MalformedEvent) as refused:
        parse_delivery(envelope)
    assert "a@example.com" not in str(refused.value)


def test_itinerary_holds_items_and_traveller() -> None:
    """The itinerary document lists the items as published, the total and the traveller."""
    doc = json.loads(itinerary_for(_event(items=[FLIGHT, HOTEL])))
    assert doc["items"] == [FLIGHT, HOTEL]
    assert doc["total"] == {"amount": 123405, "currency": "EUR"}
    assert doc["traveller"] == {"email": "a@example.com", "name": "Alice"}
