"""Stable codes for requests that are well formed but ask for something impossible."""

from __future__ import annotations

from itinera.errors import BadRequest, ValidationFailed


class UnknownAirport(ValidationFailed):
    code, title = "unknown_airport", "Unknown airport"


class InvalidPassengers(ValidationFailed):
    code, title = "invalid_passengers", "Passengers must be between 1 and 9"


class InvalidCabin(ValidationFailed):
    code, title = "invalid_cabin", "Unknown cabin"


class InvalidLimit(ValidationFailed):
    code, title = "invalid_limit", "Limit out of range"


class InvalidCursor(ValidationFailed):
    # 422, not 400: a cursor is opaque, so one that looks right but was never issued is a
    # well-formed request for a page that does not exist.
    code, title = "invalid_cursor", "Unknown pagination cursor"


class InvalidSort(BadRequest):
    code, title = "invalid_sort", "Unknown sort order"


class InvalidHoldItems(ValidationFailed):
    code, title = "invalid_hold_items", "The hold's items are invalid"


class InvalidStay(ValidationFailed):
    code, title = "invalid_stay", "The stay's dates are invalid"


class UnknownCity(ValidationFailed):
    code, title = "unknown_city", "Unknown city"


class InvalidGuests(ValidationFailed):
    code, title = "invalid_guests", "Guests must be between 1 and 9"


class MissingIdempotencyKey(BadRequest):
    code, title = "idempotency_key_required", "The Idempotency-Key header is required"
