"""Parse and validate what clients send, before any I/O: search queries and hold bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from multidict import MultiMapping

from inventory.errors import (
    InvalidCabin,
    InvalidHoldItems,
    InvalidLimit,
    InvalidPassengers,
    InvalidSort,
    InvalidStay,
    UnknownAirport,
)
from inventory.paging import decode_cursor
from inventory.pricing import CABINS
from itinera.errors import BadRequest, ValidationFailed

SEARCH_PARAMS = frozenset({"origin", "destination", "date", "passengers", "cabin", "limit",
                           "cursor", "sort", "max_price", "depart_after", "depart_before"})
FLIGHT_SORTS = ("departure", "price", "duration")
MAX_STAY_NIGHTS = 30
MAX_PASSENGERS = 9
MAX_LIMIT = 50
MAX_ITEMS = 5
MAX_QUANTITY = 9
_IATA = re.compile(r"^[A-Z]{3}$")
_DIGITS = re.compile(r"^[1-9][0-9]{0,18}$")
_HOLD_ID = re.compile(r"^[0-9a-f]{32}$")
_CUSTOMER_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
_BOOKING_ID = re.compile(r"^[\x21-\x7e]{1,64}$")
_ROOM_CODE = re.compile(r"^[a-z0-9_]{1,32}$")


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
    sort: str = "departure"
    max_price: int | None = None
    depart_after: time | None = None
    depart_before: time | None = None

    def cache_key(self) -> str:
        """Return the key its result is cached under (without the namespace)."""
        window = (f"{_hhmm(self.depart_after)}-{_hhmm(self.depart_before)}"
                  if self.depart_after or self.depart_before else "-")
        return (f"search:v2:{self.origin}:{self.destination}:{self.date.isoformat()}:"
                f"{self.cabin}:{self.passengers}:{self.sort}:{self.max_price or '-'}:{window}:"
                f"{self.limit}:{self.cursor or '-'}")


def _hhmm(when: time | None) -> str:
    return when.strftime("%H%M") if when else ""


@dataclass(frozen=True)
class FlightItem:
    """Seats asked for on one flight cabin."""

    flight_id: int
    cabin: str
    quantity: int

    kind = "flight"

    @property
    def lock_key(self) -> tuple[int, int]:
        """Return the key that fixes the order in which cabin rows are locked."""
        # Cabin by enum position, the order `ORDER BY flight_id, cabin` gives in MySQL too.
        return (self.flight_id, CABINS.index(self.cabin))

    @property
    def identity(self) -> tuple[str, int, str]:
        """Return what makes two items of one hold the same item."""
        return ("flight", self.flight_id, self.cabin)


@dataclass(frozen=True)
class HotelItem:
    """Rooms asked for on every night of a stay in one hotel room type."""

    hotel_id: int
    room_type: str
    check_in: date
    check_out: date
    rooms: int
    kind = "hotel"

    @property
    def nights(self) -> int:
        """Return the number of nights of the stay."""
        return (self.check_out - self.check_in).days

    @property
    def identity(self) -> tuple[str, int, str]:
        """Return what makes two items of one hold the same item."""
        return ("hotel", self.hotel_id, self.room_type)


HoldItem = FlightItem | HotelItem


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
    sort = query.get("sort", "departure")
    if sort not in FLIGHT_SORTS:
        raise InvalidSort(f"sort must be one of {', '.join(FLIGHT_SORTS)}")
    max_price = _int(query, "max_price", -1, digits=9) if "max_price" in query else None
    if max_price is not None and max_price < 0:
        raise ValidationFailed("max_price must be a non-negative amount in minor units")
    after, before = _clock(query, "depart_after"), _clock(query, "depart_before")
    if after is not None and before is not None and after >= before:
        raise ValidationFailed("depart_after must be earlier than depart_before")
    cursor = query.get("cursor") or None
    if cursor is not None:
        decode_cursor(cursor, sort)
    return SearchQuery(origin, destination, when, passengers, cabin, limit, cursor, sort,
                       max_price, after, before)


def _clock(query: MultiMapping[str], name: str) -> time | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", raw):
        raise BadRequest(f"{name} must be HH:MM (24-hour, local time at the origin)")
    return time(int(raw[:2]), int(raw[3:]))


def parse_flight_id(raw: str, *, what: str = "flight") -> int:
    """Return *raw* as a flight (or hotel) id or raise BadRequest."""
    if not _DIGITS.match(raw) or int(raw) > 2**63 - 1:
        raise BadRequest(f"a {what} id is a positive integer")
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


def parse_hold_items(body: Mapping[str, Any]) -> list[HoldItem]:
    """Return the items of a create-hold body; prices are never accepted from the client."""
    _only(body, {"items"}, "body")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidHoldItems(f"items must be a list of 1 to {MAX_ITEMS} items")
    parsed: list[HoldItem] = []
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            raise BadRequest(f"{where} must be an object")
        kind = item.get("kind")
        if kind == "flight":
            parsed.append(_flight_item(item, where))
        elif kind == "hotel":
            parsed.append(_hotel_item(item, where))
        else:
            raise InvalidHoldItems(f"{where}.kind must be 'flight' or 'hotel'")
    if len({i.identity for i in parsed}) != len(parsed):
        raise InvalidHoldItems("the same flight cabin or hotel room type appears twice")
    return parsed


def _flight_item(item: Mapping[str, Any], where: str) -> FlightItem:
    _only(item, {"kind", "flight_id", "cabin", "quantity"}, where)
    flight_id = _item_id(item.get("flight_id"), f"{where}.flight_id")
    cabin = item.get("cabin")
    if cabin not in CABINS:
        raise InvalidCabin(f"{where}.cabin must be one of {', '.join(CABINS)}")
    return FlightItem(flight_id, cabin, _count(item.get("quantity"), f"{where}.quantity"))


def _hotel_item(item: Mapping[str, Any], where: str) -> HotelItem:
    _only(item, {"kind", "hotel_id", "room_type", "check_in", "check_out", "rooms"}, where)
    hotel_id = _item_id(item.get("hotel_id"), f"{where}.hotel_id")
    room_type = item.get("room_type")
    if not isinstance(room_type, str) or not _ROOM_CODE.match(room_type):
        raise InvalidHoldItems(f"{where}.room_type must be a room type code")
    check_in, check_out = parse_stay(item.get("check_in"), item.get("check_out"))
    return HotelItem(hotel_id, room_type, check_in, check_out,
                     _count(item.get("rooms"), f"{where}.rooms"))


def parse_stay(raw_in: object, raw_out: object) -> tuple[date, date]:
    """Return (check_in, check_out) or raise: YYYY-MM-DD, out after in, at most 30 nights."""
    days = []
    for name, raw in (("check_in", raw_in), ("check_out", raw_out)):
        if not isinstance(raw, str) or len(raw) != 10:
            raise BadRequest(f"{name} must be YYYY-MM-DD")
        try:
            days.append(date.fromisoformat(raw))
        except ValueError as exc:
            raise BadRequest(f"{name} must be YYYY-MM-DD") from exc
    check_in, check_out = days
    if check_out <= check_in:
        raise InvalidStay("check_out must be after check_in")
    if (check_out - check_in).days > MAX_STAY_NIGHTS:
        raise InvalidStay(f"a stay is at most {MAX_STAY_NIGHTS} nights")
    return check_in, check_out


def _item_id(raw: object, where: str) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise InvalidHoldItems(f"{where} must be an id")
    try:
        return parse_flight_id(raw)
    except BadRequest as exc:
        raise InvalidHoldItems(f"{where} must be an id") from exc


def _count(raw: object, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_QUANTITY:
        raise InvalidHoldItems(f"{where} must be 1 to {MAX_QUANTITY}")
    return raw


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


def _int(query: MultiMapping[str], name: str, default: int, *, digits: int = 6) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(rf"-?[0-9]{{1,{digits}}}", raw):
        raise BadRequest(f"{name} must be an integer")
    return int(raw)
