"""Parse and validate what clients send, before any I/O: search queries and hold bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from multidict import MultiMapping

from inventory.errors import (
    InvalidCabin,
    InvalidHoldItems,
    InvalidLimit,
    InvalidPassengers,
    UnknownAirport,
)
from inventory.paging import decode_cursor
from inventory.pricing import CABINS
from itinera.errors import BadRequest, ValidationFailed

SEARCH_PARAMS = frozenset({"origin", "destination", "date", "passengers", "cabin", "limit",
                           "cursor"})
MAX_PASSENGERS = 9
MAX_LIMIT = 50
MAX_ITEMS = 5
MAX_QUANTITY = 9
_IATA = re.compile(r"^[A-Z]{3}$")
_DIGITS = re.compile(r"^[1-9][0-9]{0,18}$")
_HOLD_ID = re.compile(r"^[0-9a-f]{32}$")
_CUSTOMER_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_BOOKING_ID = re.compile(r"^[\x21-\x7e]{1,64}$")


@dataclass(frozen=True)
class SearchQuery:
    """A validated flight search."""

    origin: str
    destination: str
    date: date
    passengers: int = 1
    cabin: str = "economy"
    limit: int = 20
    cursor: str | None = None

    def cache_key(self) -> str:
        """Return the key its result is cached under (without the namespace)."""
        return (f"search:v1:{self.origin}:{self.destination}:{self.date.isoformat()}:"
                f"{self.cabin}:{self.passengers}:{self.limit}:{self.cursor or '-'}")


@dataclass(frozen=True)
class FlightItem:
    """Seats asked for on one flight cabin."""

    flight_id: int
    cabin: str
    quantity: int

    @property
    def lock_key(self) -> tuple[int, int]:
        """Return the key that fixes the order in which cabin rows are locked."""
        # Cabin by enum position, the order `ORDER BY flight_id, cabin` gives in MySQL too.
        return (self.flight_id, CABINS.index(self.cabin))


def parse_search(query: MultiMapping[str]) -> SearchQuery:
    """Return the search in *query* or raise BadRequest/ValidationFailed subclasses."""
    unknown = sorted(set(query) - SEARCH_PARAMS)
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(unknown)}")
    for name in query:
        if len(query.getall(name)) > 1:
            raise BadRequest(f"query parameter {name} is given more than once")
    for name in ("origin", "destination", "date"):
        if not query.get(name):
            raise BadRequest(f"query parameter {name} is required")
    origin, destination = query["origin"].upper(), query["destination"].upper()
    for code in (origin, destination):
        if not _IATA.match(code):
            raise UnknownAirport(f"{code!r} is not a 3-letter IATA code", airport=code[:8])
    if origin == destination:
        raise ValidationFailed("origin and destination must differ")
    try:
        when = date.fromisoformat(query["date"])
    except ValueError as exc:
        raise BadRequest("date must be YYYY-MM-DD") from exc
    if len(query["date"]) != 10:
        raise BadRequest("date must be YYYY-MM-DD")
    passengers = _int(query, "passengers", 1)
    if not 1 <= passengers <= MAX_PASSENGERS:
        raise InvalidPassengers(f"passengers must be between 1 and {MAX_PASSENGERS}")
    cabin = query.get("cabin", "economy")
    if cabin not in CABINS:
        raise InvalidCabin(f"cabin must be one of {', '.join(CABINS)}")
    limit = _int(query, "limit", 20)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidLimit(f"limit must be between 1 and {MAX_LIMIT}")
    cursor = query.get("cursor") or None
    if cursor is not None:
        decode_cursor(cursor)
    return SearchQuery(origin, destination, when, passengers, cabin, limit, cursor)


def parse_flight_id(raw: str) -> int:
    """Return *raw* as a flight id or raise BadRequest."""
    if not _DIGITS.match(raw) or int(raw) > 2**63 - 1:
        raise BadRequest("a flight id is a positive integer")
    return int(raw)


def parse_hold_id(raw: str) -> str:
    """Return *raw* if it looks like a hold id (32 lowercase hex digits) or raise BadRequest."""
    if not _HOLD_ID.match(raw):
        raise BadRequest("a hold id is 32 lowercase hex digits")
    return raw


def parse_customer_id(raw: str | None, *, required: bool) -> str | None:
    """Return the caller's customer id from its header value."""
    if raw is None or raw == "":
        if required:
            raise BadRequest("header X-Customer-Id is required")
        return None
    if not _CUSTOMER_ID.match(raw):
        raise BadRequest("header X-Customer-Id must be 1 to 128 printable ASCII characters")
    return raw


def parse_hold_items(body: Mapping[str, Any]) -> list[FlightItem]:
    """Return the items of a create-hold body; prices are never accepted from the client."""
    _only(body, {"items"}, "body")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidHoldItems(f"items must be a list of 1 to {MAX_ITEMS} items")
    parsed: list[FlightItem] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"items[{index}] must be an object")
        _only(item, {"kind", "flight_id", "cabin", "quantity"}, f"items[{index}]")
        if item.get("kind") != "flight":
            raise InvalidHoldItems(f"items[{index}].kind must be 'flight'")
        raw_id = item.get("flight_id")
        if isinstance(raw_id, int) and not isinstance(raw_id, bool):
            raw_id = str(raw_id)
        if not isinstance(raw_id, str):
            raise InvalidHoldItems(f"items[{index}].flight_id must be a flight id")
        try:
            flight_id = parse_flight_id(raw_id)
        except BadRequest as exc:
            raise InvalidHoldItems(f"items[{index}].flight_id must be a flight id") from exc
        cabin = item.get("cabin")
        if cabin not in CABINS:
            raise InvalidCabin(f"items[{index}].cabin must be one of {', '.join(CABINS)}")
        quantity = item.get("quantity")
        if (not isinstance(quantity, int) or isinstance(quantity, bool)
                or not 1 <= quantity <= MAX_QUANTITY):
            raise InvalidHoldItems(f"items[{index}].quantity must be 1 to {MAX_QUANTITY}")
        parsed.append(FlightItem(flight_id, cabin, quantity))
    if len({i.lock_key for i in parsed}) != len(parsed):
        raise InvalidHoldItems("the same flight and cabin appear twice")
    return parsed


def parse_booking_id(body: Mapping[str, Any], *, required: bool) -> str | None:
    """Return the booking id of a confirm or release body."""
    _only(body, {"booking_id"}, "body")
    booking_id = body.get("booking_id")
    if booking_id is None and not required:
        return None
    if not isinstance(booking_id, str) or not _BOOKING_ID.match(booking_id):
        raise BadRequest("booking_id must be 1 to 64 printable ASCII characters")
    return booking_id


def _only(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise BadRequest(f"{where} has unknown fields: {', '.join(extra)}")


def _int(query: MultiMapping[str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"-?[0-9]{1,6}", raw):
        raise BadRequest(f"{name} must be an integer")
    return int(raw)
