"""Paying for a hold: the booking request, the booking, and the traveller's list of them."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import StringConstraints

from itinera.api.errors import MissingIdempotencyKey
from itinera.api.holds import HeldItem
from itinera.api.types import IDEMPOTENCY_KEY, Contract, HexId, Money, Timestamp, query_int
from itinera.errors import BadRequest

BookingStatus = Literal["pending", "confirmed", "failed", "cancelling", "cancelled"]
BOOKING_CURSOR = "^[A-Za-z0-9_=-]{1,2048}$"


class Payment(Contract):
    """The card to charge; it is exchanged for a token and never stored."""

    card_number: Annotated[str, StringConstraints(pattern="^[0-9 ]{12,23}$")]


# RFC 5322 dot-atoms and DNS labels (the HTML form rule, with a top-level domain): addresses
# SES delivers to. Quotes, comments and commas are valid mail syntax that SES and most mail
# parsers read as something else, so a confirmation could never be sent to them.
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = rf"^{ATOM}(?:\.{ATOM})*@{LABEL}(?:\.{LABEL})*\.[A-Za-z]{{2,63}}$"


class Contact(Contract):
    """Where the confirmation goes."""

    email: Annotated[str, StringConstraints(pattern=EMAIL, max_length=254)]
    name: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class BookingRequest(Contract):
    """Check out one active hold of the caller's (the `Idempotency-Key` header is required)."""

    hold_id: HexId
    payment: Payment
    contact: Contact


class Booking(Contract):
    """A booking and where it stands; `pending` moves to `confirmed` or `failed` by itself."""

    booking_id: HexId
    status: BookingStatus
    hold_id: HexId
    items: list[HeldItem]
    total: Money
    created_at: Timestamp
    updated_at: Timestamp
    failure_reason: str | None = None


class BookingPage(Contract):
    """One page of the caller's bookings, newest first."""

    items: list[Booking]
    next_cursor: str | None = None


class BookingList(Contract):
    """Which page of the caller's bookings to return."""

    limit: query_int(1, 100) = 20  # type: ignore[valid-type]
    cursor: Annotated[str, StringConstraints(pattern=BOOKING_CURSOR)] | None = None


def idempotency_key(raw: str | None) -> str:
    """Return a checkout's Idempotency-Key header value, or raise a 400."""
    if not raw:
        raise MissingIdempotencyKey("the Idempotency-Key header is required")
    if not re.fullmatch(IDEMPOTENCY_KEY, raw):
        raise BadRequest("Idempotency-Key must be 8 to 128 letters, digits or -_.:")
    return raw
