"""What the traveller receives for each booking event (pure functions)."""

from __future__ import annotations

from typing import Any

import orjson
from aws_lambda_powertools.utilities.parser.models import SnsNotificationModel
from pydantic import ValidationError

from itinera.api.events import BookingEvent
from itinera.api.holds import HeldFlight, HeldItem
from itinera.api.types import Money
from itinera.tracing import REQUEST_ID_ATTRIBUTE, TRACE_ATTRIBUTE


class MalformedEvent(ValueError):
    """A delivery that is not a booking event: it stays on the queue and ends in the DLQ."""


def money(total: Money) -> str:
    """Format minor units as `123.45 EUR`."""
    return f"{total.amount // 100}.{total.amount % 100:02d} {total.currency}"


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def item_line(item: HeldItem) -> str:
    """Return the e-mail's line for one booked item."""
    if isinstance(item, HeldFlight):
        return f"- flight {item.flight_id} {item.cabin} x{item.quantity}"
    return (f"- hotel {item.hotel_id} {item.room_type}, {_count(item.rooms, 'room')}, "
            f"{item.check_in} to {item.check_out} ({_count(item.nights, 'night')})")


def email_for(event: BookingEvent) -> tuple[str, str]:
    """Return the subject and text body of the e-mail for *event*."""
    booking = event.booking
    name = booking.contact.name or "traveller"
    short = booking.booking_id[:8]
    if event.event_type == "booking.confirmed":
        subject = f"Your Itinera booking {short} is confirmed"
        intro = f"Hello {name},\n\nyour booking is confirmed. You paid {money(booking.total)}."
    elif event.event_type == "booking.failed":
        subject = f"Your Itinera booking {short} could not be completed"
        intro = (f"Hello {name},\n\nwe could not complete your booking "
                 f"({booking.failure_reason or 'unknown reason'}). You were not charged.")
    else:
        subject = f"Your Itinera booking {short} is cancelled"
        intro = f"Hello {name},\n\nyour booking is cancelled and refunded."
    body = "\n".join([intro, "", "Booking " + booking.booking_id,
                      *(item_line(i) for i in booking.items), "", "Itinera"])
    return subject, body


def itinerary_for(event: BookingEvent) -> bytes:
    """Return the itinerary document stored for a confirmed booking."""
    booking = event.booking.model_dump(mode="json")
    return orjson.dumps({"booking_id": booking["booking_id"], "status": booking["status"],
                         "items": booking["items"], "total": booking["total"],
                         "traveller": booking["contact"]}, option=orjson.OPT_INDENT_2)


def parse_sns_envelope(body: str) -> BookingEvent:
    """Return the booking event inside an SNS-to-SQS delivery."""
    return parse_delivery(body)[0]


def parse_delivery(body: str) -> tuple[BookingEvent, tuple[str | None, str | None]]:
    """Return the booking event and the request id and trace header its delivery carries.

    A delivery is the SNS notification as SNS puts it in a subscribed queue (raw delivery
    off), validated with Powertools' `SnsNotificationModel`, or the bare event (a redrive or
    a test may send one). Anything else is a `MalformedEvent`, which names the faulty fields
    but not their values (they may be a traveller's contact).
    """
    try:
        envelope: Any = orjson.loads(body)
        if isinstance(envelope, dict) and envelope.get("Type") == "Notification":
            notification = SnsNotificationModel.model_validate(envelope)
            attributes = notification.MessageAttributes or {}

            def carried(name: str) -> str | None:
                attribute = attributes.get(name)
                return attribute.Value if attribute is not None else None

            return (BookingEvent.model_validate_json(str(notification.Message)),
                    (carried(REQUEST_ID_ATTRIBUTE), carried(TRACE_ATTRIBUTE)))
        return BookingEvent.model_validate(envelope), (None, None)
    except orjson.JSONDecodeError:
        raise MalformedEvent("not a booking event (not JSON)") from None
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}"
                           for e in exc.errors(include_input=False, include_url=False))
        raise MalformedEvent(f"not a booking event ({fields})") from None
