"""Inventory's own error codes, as subclasses of the shared hierarchy."""

from __future__ import annotations

from itinera.errors import BadRequest, Conflict, ValidationFailed


class UnknownAirport(ValidationFailed):
    code, title = "unknown_airport", "Unknown airport"


class DateInPast(ValidationFailed):
    code, title = "date_in_past", "The date is in the past"


class InvalidPassengers(ValidationFailed):
    code, title = "invalid_passengers", "Passengers must be between 1 and 9"


class InvalidCabin(ValidationFailed):
    code, title = "invalid_cabin", "Unknown cabin"


class InvalidLimit(ValidationFailed):
    code, title = "invalid_limit", "Limit out of range"


class InvalidCursor(BadRequest):
    code, title = "invalid_cursor", "Malformed pagination cursor"


class InvalidHoldItems(ValidationFailed):
    code, title = "invalid_hold_items", "The hold's items are invalid"


class UnknownFlight(ValidationFailed):
    code, title = "unknown_flight", "Unknown flight"


class FlightDeparted(ValidationFailed):
    code, title = "flight_departed", "The flight has already departed"


class MixedCurrencies(ValidationFailed):
    code, title = "mixed_currencies", "Items are priced in different currencies"


class InvalidSort(BadRequest):
    code, title = "invalid_sort", "Unknown sort order"


class InvalidStay(ValidationFailed):
    code, title = "invalid_stay", "The stay's dates are invalid"


class UnknownCity(ValidationFailed):
    code, title = "unknown_city", "Unknown city"


class InvalidGuests(ValidationFailed):
    code, title = "invalid_guests", "Guests must be between 1 and 9"


class UnknownHotel(ValidationFailed):
    code, title = "unknown_hotel", "Unknown hotel or room type"


class CapacityBelowCommitted(Conflict):
    code, title = "capacity_below_committed", "Capacity cannot go below held plus sold"


class AlreadyExists(Conflict):
    code, title = "already_exists", "It exists already"
