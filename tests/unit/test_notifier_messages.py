"""What travellers read: e-mail text and itineraries, from booking events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from itinera.api.events import BookingEvent
from itinera.api.types import Money
from itinera.tracing import REQUEST_ID_ATTRIBUTE, TRACE_ATTRIBUTE
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


def notification(message: dict[str, Any], **attributes: str) -> str:
    """Return *message* as SNS puts it in a subscribed queue (raw delivery off)."""
    topic = "arn:aws:sns:eu-west-1:123456789012:itinera-booking-events"
    return json.dumps({
        "Type": "Notification", "MessageId": "5b1c4a4e-0d5e-4c43-9a3c-2f0f1c0d9e11",
        "TopicArn": topic, "Message": json.dumps(message),
        "Timestamp": "2026-12-07T18:00:00.000Z", "SignatureVersion": "1",
        "Signature": "EXAMPLE", "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
                          f"&SubscriptionArn={topic}:1",
        "MessageAttributes": {name: {"Type": "String", "Value": value}
                              for name, value in attributes.items()}})


def test_sns_envelope_is_unwrapped() -> None:
    """An SNS notification delivered through SQS yields the event inside it, validated, and
    a bare event (a redrive may send one) is read as it is."""
    assert parse_sns_envelope(notification(EVENT)) == BookingEvent.model_validate(EVENT)
    assert parse_sns_envelope(json.dumps(EVENT)) == BookingEvent.model_validate(EVENT)


def test_the_notification_carries_the_request_id_and_trace_header() -> None:
    """The worker's request id and X-Ray header, published as message attributes, come out
    of the delivery with the event; a notification without them carries none."""
    header = "Root=1-6b16f57c-3260ba86c4e5e08e8c4d3900;Parent=53995c3f42cd8ad8;Sampled=1"
    body = notification(EVENT, **{REQUEST_ID_ATTRIBUTE: "req-2", TRACE_ATTRIBUTE: header})
    assert parse_delivery(body)[1] == ("req-2", header)
    assert parse_delivery(notification(EVENT))[1] == (None, None)


@pytest.mark.parametrize("missing", ["TopicArn", "MessageId", "Timestamp", "Message"])
def test_a_notification_that_is_not_sns_shaped_is_refused(missing: str) -> None:
    """The envelope is validated too (Powertools' SnsNotificationModel): a notification
    without one of SNS's own fields is a MalformedEvent, as is a body that is not JSON."""
    envelope = json.loads(notification(EVENT))
    del envelope[missing]
    with pytest.raises(MalformedEvent, match=missing if missing != "Message" else "Message"):
        parse_delivery(json.dumps(envelope))
    with pytest.raises(MalformedEvent, match="not JSON"):
        parse_delivery("{not json")


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
    with pytest.raises(MalformedEvent) as refused:
        parse_delivery(notification({**EVENT, **change}))
    assert "a@example.com" not in str(refused.value)


def test_itinerary_holds_items_and_traveller() -> None:
    """The itinerary document lists the items as published, the total and the traveller."""
    doc = json.loads(itinerary_for(_event(items=[FLIGHT, HOTEL])))
    assert doc["items"] == [FLIGHT, HOTEL]
    assert doc["total"] == {"amount": 123405, "currency": "EUR"}
    assert doc["traveller"] == {"email": "a@example.com", "name": "Alice"}
