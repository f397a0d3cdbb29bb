"""Parse and validate hotel searches and hotel detail queries, before any I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from multidict import MultiMapping

from inventory.errors import InvalidGuests, InvalidLimit, InvalidSort, UnknownCity
from inventory.paging import decode_cursor
from inventory.params import MAX_LIMIT, parse_stay
from itinera.errors import BadRequest

HOTEL_SEARCH_PARAMS = frozenset({"city", "check_in", "check_out", "guests", "sort", "limit",
                                 "cursor"})
HOTEL_DETAIL_PARAMS = frozenset({"check_in", "check_out", "guests"})
HOTEL_SORTS = ("price",)
MAX_GUESTS = 9
_CITY = re.compile(r"^[^\x00-\x1f]{1,120}$")


@dataclass(frozen=True)
class HotelQuery:
    """A validated hotel search: city, stay, guests and the page wanted."""

    city: str
    check_in: date
    check_out: date
    guests: int = 1
    sort: str = "price"
    limit: int = 20
    cursor: str | None = None

    @property
    def nights(self) -> int:
        """Return the number of nights of the stay."""
        return (self.check_out - self.check_in).days

    def cache_key(self) -> str:
        """Return the key its result is cached under (without the namespace)."""
        return (f"hotels:v1:{self.city.casefold()}:{self.check_in.isoformat()}:"
                f"{self.check_out.isoformat()}:{self.guests}:{self.sort}:{self.limit}:"
                f"{self.cursor or '-'}")


@dataclass(frozen=True)
class StayQuery:
    """Optional dates (and guests) for a hotel's details."""

    check_in: date | None = None
    check_out: date | None = None
    guests: int = 1


def parse_hotel_search(query: MultiMapping[str]) -> HotelQuery:
    """Return the hotel search in *query* or raise BadRequest/ValidationFailed subclasses."""
    _known(query, HOTEL_SEARCH_PARAMS)
    for name in ("city", "check_in", "check_out"):
        if not query.get(name):
            raise BadRequest(f"query parameter {name} is required")
    city = query["city"].strip()
    if not _CITY.match(city):
        raise UnknownCity(f"{city[:40]!r} is not a city name")
    check_in, check_out = parse_stay(query["check_in"], query["check_out"])
    guests = _guests(query)
    sort = query.get("sort", "price")
    if sort not in HOTEL_SORTS:
        raise InvalidSort(f"sort must be one of {', '.join(HOTEL_SORTS)}")
    raw_limit = query.get("limit", "20")
    if not re.fullmatch(r"[0-9]{1,4}", raw_limit):
        raise BadRequest("limit must be an integer")
    limit = int(raw_limit)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidLimit(f"limit must be between 1 and {MAX_LIMIT}")
    cursor = query.get("cursor") or None
    if cursor is not None:
        decode_cursor(cursor, sort)
    return HotelQuery(city, check_in, check_out, guests, sort, limit, cursor)


def parse_stay_query(query: MultiMapping[str]) -> StayQuery:
    """Return the optional stay of a hotel details request; both dates or neither."""
    _known(query, HOTEL_DETAIL_PARAMS)
    if "check_in" not in query and "check_out" not in query:
        return StayQuery(guests=_guests(query))
    check_in, check_out = parse_stay(query.get("check_in"), query.get("check_out"))
    return StayQuery(check_in, check_out, _guests(query))


def _guests(query: MultiMapping[str]) -> int:
    raw = query.get("guests", "1")
    if not re.fullmatch(r"-?[0-9]{1,4}", raw):
        raise BadRequest("guests must be an integer")
    guests = int(raw)
    if not 1 <= guests <= MAX_GUESTS:
        raise InvalidGuests(f"guests must be between 1 and {MAX_GUESTS}")
    return guests


def _known(query: MultiMapping[str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(unknown)}")
    for name in query:
        if len(query.getall(name)) > 1:
            raise BadRequest(f"query parameter {name} is given more than once")
