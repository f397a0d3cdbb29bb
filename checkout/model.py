"""Bookings, their statuses and the transitions the saga may make."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from itinera.api.bookings import Booking as BookingView
from itinera.api.holds import HeldItem
from itinera.api.types import Money

PENDING, CONFIRMED, FAILED = "pending", "confirmed", "failed"
CANCELLING, CANCELLED = "cancelling", "cancelled"
TERMINAL = frozenset({CONFIRMED, FAILED, CANCELLED})

# Every status change is a conditional write from one of these sources, so a stale or
# repeated step can never move a booking backwards.
TRANSITIONS: dict[str, frozenset[str]] = {
    CONFIRMED: frozenset({PENDING}),
    FAILED: frozenset({PENDING}),
    # Cancelling is durable before any money moves, so a crash mid-way resumes the refund.
    CANCELLING: frozenset({CONFIRMED}),
    CANCELLED: frozenset({CANCELLING}),
}


def can_move(current: str, target: str) -> bool:
    """Return whether a booking may go from *current* to *target*."""
    return current in TRANSITIONS.get(target, frozenset())


@dataclass(frozen=True, kw_only=True)
class Booking:
    """One traveller's booking as stored in DynamoDB."""

    booking_id: str
    customer_id: str
    hold_id: str
    status: str
    amount: int
    currency: str
    items: list[HeldItem]
    contact_email: str
    contact_name: str
    payment_method: str
    created_at: str
    updated_at: str
    payment_id: str | None = None
    failure_reason: str | None = None
    published: frozenset[str] = field(default_factory=frozenset)

    @property
    def total(self) -> Money:
        """Return what the booking costs."""
        return Money(amount=self.amount, currency=self.currency)

    def view(self) -> dict[str, Any]:
        """Return what the traveller sees of this booking."""
        # Through the contract's model, so the API never answers a shape it does not document.
        return BookingView.model_validate({
            "booking_id": self.booking_id, "status": self.status, "hold_id": self.hold_id,
            "items": self.items, "total": self.total, "created_at": self.created_at,
            "updated_at": self.updated_at, "failure_reason": self.failure_reason or None,
        }).model_dump(mode="json", exclude_none=True)
