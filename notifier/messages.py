"""What the traveller receives for each booking event (pure functions)."""

from __future__ import annotations

from typing import Any

import orjson

from itinera.tracing import from_sns_envelope


def money(total: dict[str, Any]) -> str:
    """Format minor units as `123.45 EUR`."""
    amount = int(total["amount"])
    return f"{amount // 100}.{amount % 100:02d} {total['currency']}"


def email_for(event: dict[str, Any]) -> tuple[str, str]:
    """Return the subject and text body of the e-mail for *event*."""
    booking = event["booking"]
    name = booking["contact"].get("name") or "traveller"
    lines = [f"- {i.get('kind', 'item')} {i.get('flight_id', '')} {i.get('cabin', '')} "
             f"x{i.get('quantity', 1)}" for i in booking["items"]]
    if event["event_type"] == "booking.confirmed":
        subject = f"Your Itinera booking {booking['booking_id'][:8]} is confirmed"
        intro = f"Hello {name},\n\nyour booking is confirmed. You paid {money(booking['total'])}."
    elif event["event_type"] == "booking.failed":
        subject = f"Your Itinera booking {booking['booking_id'][:8]} could not be completed"
        intro = (f"Hello {name},\n\nwe could not complete your booking "
                 f"({booking.get('failure_reason') or 'unknown reason'}). You were not charged.")
    else:
        subject = f"Your Itinera booking {booking['booking_id'][:8]} is cancelled"
        intro = f"Hello {name},\n\nyour booking is cancelled and refunded."
    body = "\n".join([intro, "", "Booking " + booking["booking_id"], *lines, "",
                      "Itinera"])
    return subject, body


def itinerary_for(event: dict[str, Any]) -> bytes:
    """Return the itinerary document stored for a confirmed booking."""
    booking = event["booking"]
    return orjson.dumps({"booking_id": booking["booking_id"], "status": booking["status"],
                         "items": booking["items"], "total": booking["total"],
                         "traveller": booking["contact"]}, option=orjson.OPT_INDENT_2)


def parse_sns_envelope(body: str) -> dict[str, Any]:
    """Return the booking event inside an SNS-to-SQS delivery."""
    return parse_delivery(body)[0]


def parse_delivery(body: str) -> tuple[dict[str, Any], tuple[str | None, str | None]]:
    """Return the booking event and the request id and trace header its delivery carries."""
    envelope = orjson.loads(body)
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
        return dict(orjson.loads(envelope["Message"])), from_sns_envelope(envelope)
    return dict(envelope), (None, None)
