"""The booking events checkout publishes on SNS `booking-events`."""

from __future__ import annotations

from typing import Any

from checkout.model import CANCELLED, CONFIRMED, FAILED, Booking

EVENT_TYPES = {CONFIRMED: "booking.confirmed", FAILED: "booking.failed",
               CANCELLED: "booking.cancelled"}


def event_for(booking: Booking, *, occurred_at: str) -> dict[str, Any]:
    """Build the event announcing *booking*'s terminal status."""
    event_type = EVENT_TYPES[booking.status]
    return {
        # Deterministic, so a consumer can drop the duplicate of a republished event.
        "event_id": f"{booking.booking_id}:{event_type}",
        "event_type": event_type,
        "occurred_at": occurred_at,
        "booking": {
            "booking_id": booking.booking_id,
            "customer_id": booking.customer_id,
            "status": booking.status,
            "items": [i.model_dump(mode="json") for i in booking.items],
            "total": {"amount": booking.amount, "currency": booking.currency},
            "contact": {"email": booking.contact_email, "name": booking.contact_name},
            "failure_reason": booking.failure_reason,
        },
    }


def message_attributes(event: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Return the SNS message attributes that subscription filter policies match on."""
    return {"event_type": {"DataType": "String", "StringValue": event["event_type"]}}
