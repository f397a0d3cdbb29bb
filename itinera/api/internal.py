"""Bodies of inventory's internal hold API, which checkout calls."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from itinera.api.types import Contract

BookingRefId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,64}$")]


class BookingRef(Contract):
    """The booking a hold is confirmed, released or cancelled for."""

    booking_id: BookingRefId


class OptionalBookingRef(Contract):
    """A release may name the booking it compensates for."""

    booking_id: BookingRefId | None = None
