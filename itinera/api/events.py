"""The booking events checkout publishes on SNS `booking-events` and the notifier reads."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from itinera.api.bookings import Contact
from itinera.api.holds import HeldItem
from itinera.api.types import Contract, HexId, Money, Timestamp

EventType = Literal["booking.confirmed", "booking.failed", "booking.cancelled"]
# The terminal status each event announces.
EVENT_TYPES: dict[str, EventType] = {"confirmed": "booking.confirmed",
                                     "failed": "booking.failed",
                                     "cancelled": "booking.cancelled"}


class AnnouncedBooking(Contract):
    """The booking as its event carries it: what was bought, for how much, and for whom."""

    booking_id: HexId
    customer_id: str
    status: Literal["confirmed", "failed", "cancelled"]
    items: list[HeldItem]
    total: Money
    contact: Contact
    failure_reason: str | None = None


class BookingEvent(Contract):
    """A booking reached a terminal status; its id is the same however often it is published."""

    event_id: str
    event_type: EventType
    occurred_at: Timestamp
    booking: AnnouncedBooking

    @classmethod
    def announcing(cls, booking: AnnouncedBooking, *, occurred_at: str) -> BookingEvent:
        """Return the event announcing *booking*'s status."""
        event_type = EVENT_TYPES[booking.status]
        # Deterministic, so a consumer can drop the duplicate of a republished event.
        return cls(event_id=f"{booking.booking_id}:{event_type}", event_type=event_type,
                   occurred_at=occurred_at, booking=booking)

    @model_validator(mode="after")
    def _consistent(self) -> BookingEvent:
        # The id and type follow from the booking: a consumer deduplicates on the id.
        event_type = EVENT_TYPES[self.booking.status]
        if (self.event_type, self.event_id) != (event_type,
                                                f"{self.booking.booking_id}:{event_type}"):
            raise ValueError(f"{self.event_type} {self.event_id!r} does not announce the "
                             f"{self.booking.status} booking {self.booking.booking_id}")
        return self
