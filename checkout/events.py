"""The booking events checkout publishes on SNS `booking-events`."""

from __future__ import annotations

from checkout.model import Booking
from itinera.api.bookings import Contact
from itinera.api.events import EVENT_TYPES, AnnouncedBooking, BookingEvent

__all__ = ["EVENT_TYPES", "event_for", "message_attributes"]


def event_for(booking: Booking, *, occurred_at: str) -> BookingEvent:
    """Build the event announcing *booking*'s terminal status."""
    # Validated, status included: only a terminal status has an event.
    announced = AnnouncedBooking.model_validate({
        "booking_id": booking.booking_id, "customer_id": booking.customer_id,
        "status": booking.status, "items": booking.items, "total": booking.total,
        "contact": Contact(email=booking.contact_email, name=booking.contact_name),
        "failure_reason": booking.failure_reason})
    return BookingEvent.announcing(announced, occurred_at=occurred_at)


def message_attributes(event: BookingEvent) -> dict[str, dict[str, str]]:
    """Return the SNS message attributes that subscription filter policies match on."""
    return {"event_type": {"DataType": "String", "StringValue": event.event_type}}
