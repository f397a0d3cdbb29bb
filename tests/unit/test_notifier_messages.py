"""What travellers read: e-mail text and itineraries, from booking events."""

from __future__ import annotations

import json

from notifier.messages import email_for, itinerary_for, money, parse_sns_envelope

EVENT = {"event_id": "b1:booking.confirmed", "event_type": "booking.confirmed",
         "booking": {"booking_id": "b1" * 16, "customer_id": "alice", "status": "confirmed",
                     "items": [{"kind": "flight", "flight_id": "7", "cabin": "economy",
                                "quantity": 2}],
                     "total": {"amount": 123405, "currency": "EUR"},
                     "contact": {"email": "a@example.com", "name": "Alice"},
                     "failure_reason": None}}


def test_money_formats_minor_units() -> None:
    """Minor units print with two decimals and the currency."""
    assert money({"amount": 123405, "currency": "EUR"}) == "1234.05 EUR"
    assert money({"amount": 7, "currency": "USD"}) == "0.07 USD"


def test_confirmation_email_names_booking_and_amount() -> None:
    """The confirmation says confirmed, names the booking and the amount paid."""
    subject, body = email_for(EVENT)
    assert "confirmed" in subject
    assert EVENT["booking"]["booking_id"] in body and "1234.05 EUR" in body


def test_failure_email_says_not_charged() -> None:
    """A failed booking's e-mail gives the reason and says the traveller was not charged."""
    event = {**EVENT, "event_type": "booking.failed",
             "booking": {**EVENT["booking"], "failure_reason": "payment_declined"}}
    subject, body = email_for(event)
    assert "could not be completed" in subject
    assert "payment_declined" in body and "not charged" in body


def test_sns_envelope_is_unwrapped() -> None:
    """An SNS notification delivered through SQS yields the event inside it."""
    envelope = json.dumps({"Type": "Notification", "Message": json.dumps(EVENT)})
    assert parse_sns_envelope(envelope) == EVENT
    assert parse_sns_envelope(json.dumps(EVENT)) == EVENT


def test_itinerary_holds_items_and_traveller() -> None:
    """The itinerary document lists the items, the total and the traveller."""
    doc = json.loads(itinerary_for(EVENT))
    assert doc["items"] == EVENT["booking"]["items"]
    assert doc["traveller"]["email"] == "a@example.com"
