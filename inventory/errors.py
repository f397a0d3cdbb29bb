"""Inventory's own error codes, as subclasses of the shared hierarchy."""

from __future__ import annotations

from itinera.errors import Conflict, ValidationFailed


class DateInPast(ValidationFailed):
    code, title = "date_in_past", "The date is in the past"


class UnknownFlight(ValidationFailed):
    code, title = "unknown_flight", "Unknown flight"


class FlightDeparted(ValidationFailed):
    code, title = "flight_departed", "The flight has already departed"


class MixedCurrencies(ValidationFailed):
    code, title = "mixed_currencies", "Items are priced in different currencies"


class UnknownHotel(ValidationFailed):
    code, title = "unknown_hotel", "Unknown hotel or room type"


class CapacityBelowCommitted(Conflict):
    code, title = "capacity_below_committed", "Capacity cannot go below held plus sold"


class AlreadyExists(Conflict):
    code, title = "already_exists", "It exists already"
