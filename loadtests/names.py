"""Names the travellers record under and the judge reads: one place, so they cannot drift."""

from __future__ import annotations

# Request types that are not HTTP requests but outcomes, recorded through locust's events.
BOOKING = "BOOKING"  # from POST /v1/bookings to a terminal status; a missed deadline fails
JOURNEY = "JOURNEY"  # one traveller's whole task, to measure arrivals in the open model
OUTCOME_TYPES = frozenset({BOOKING, JOURNEY})

CONFIRMED = "POST /v1/bookings -> confirmed"
CONFIRMED_AFTER_RETRY = "POST /v1/bookings -> confirmed (card retried)"
DECLINED = "POST /v1/bookings -> failed (declined card)"
CANCELLED = "POST /v1/bookings/{id}/cancel -> cancelled"

# Endpoints, grouped by route so that stats are per endpoint, not per id.
FLIGHTS = "/v1/flights"
FLIGHT = "/v1/flights/{id}"
HOTELS = "/v1/hotels"
HOTEL = "/v1/hotels/{id}"
HOLDS = "/v1/holds"
HOLDS_SOLD_OUT = "/v1/holds (sold out)"  # 409 sold_out: an expected answer, counted apart
BOOKINGS = "/v1/bookings"
BOOKINGS_RETRY = "/v1/bookings (client retry, same key)"
BOOKING_BY_ID = "/v1/bookings/{id}"
CANCEL = "/v1/bookings/{id}/cancel"
