"""Operator requests: new flights and hotels, capacity changes, hold listings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from itinera.api.errors import InvalidCursor, InvalidLimit
from itinera.api.holds import HoldStatus
from itinera.api.types import (
    JSON_INT,
    Cabin,
    Contract,
    Cursor,
    IsoDate,
    Money,
    RoomCode,
    json_int,
    query_int,
)
from itinera.errors import ItineraError

MAX_CAPACITY = 1000
MAX_RANGE_NIGHTS = 366
Iata = Annotated[str, StringConstraints(pattern="^[A-Z]{3}$")]
Capacity = Annotated[int, Field(strict=True, ge=0, le=MAX_CAPACITY), JSON_INT]


def _local_minute(raw: Any) -> datetime:
    try:
        return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M")
    except ValueError as exc:
        raise PydanticCustomError("datetime_parsing",
                                  "departure_local is YYYY-MM-DDTHH:MM (local time)") from exc


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PydanticCustomError("validation_failed", "tz must be an IANA time zone") from exc
    return raw


def check_range(first: date, last: date) -> None:
    """Raise unless *last* is 1 to 366 nights after *first*."""
    if not 0 < (last - first).days <= MAX_RANGE_NIGHTS:
        raise PydanticCustomError("validation_failed",
                                  "to must be 1 to {n} nights after from", {"n": MAX_RANGE_NIGHTS})


class NewCabin(Contract):
    """A cabin of a new flight: seats and the fare of one."""

    cabin: Cabin
    capacity: Capacity
    fare: Money


class NewFlight(Contract):
    """A flight to add: number, route, local departure and cabins."""

    flight_no: Annotated[str, StringConstraints(pattern="^[A-Z0-9]{2}[0-9]{1,5}$")]
    carrier: Annotated[str, StringConstraints(pattern="^[A-Z0-9]{2}$")]
    origin: Iata
    destination: Iata
    departure_local: Annotated[datetime, BeforeValidator(_local_minute), PlainSerializer(
        lambda d: d.strftime("%Y-%m-%dT%H:%M"), return_type=str), WithJsonSchema(
        {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$"})]
    cabins: list[NewCabin] = Field(min_length=1, max_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> NewFlight:
        if self.origin == self.destination:
            raise PydanticCustomError("validation_failed", "origin and destination must differ")
        if len({c.cabin for c in self.cabins}) != len(self.cabins):
            raise PydanticCustomError("validation_failed", "a cabin appears twice")
        return self


class NightRange(Contract):
    """Nights [from, to), at most a year."""

    first: IsoDate = Field(alias="from")
    last: IsoDate = Field(alias="to")

    @model_validator(mode="after")
    def _range(self) -> NightRange:
        check_range(self.first, self.last)
        return self


class NewRoomType(Contract):
    """A room type of a new hotel: rooms each night and the nightly rate."""

    code: RoomCode
    name: Annotated[str, Field(min_length=1, max_length=120)]
    max_guests: json_int(1, 9)  # type: ignore[valid-type]
    capacity: Capacity
    rate: Money


class NewHotel(Contract):
    """A hotel to add, with room types on sale for a range of nights."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    country: Annotated[str, StringConstraints(pattern="^[A-Z]{2}$")]
    tz: Annotated[str, AfterValidator(_zone)]
    stars: json_int(1, 5)  # type: ignore[valid-type]
    lat: Annotated[float, Field(strict=True, ge=-90, le=90)]
    lon: Annotated[float, Field(strict=True, ge=-180, le=180)]
    room_types: list[NewRoomType] = Field(min_length=1, max_length=20)
    nights: NightRange

    @model_validator(mode="after")
    def _distinct(self) -> NewHotel:
        if len({r.code for r in self.room_types}) != len(self.room_types):
            raise PydanticCustomError("validation_failed", "a room type code appears twice")
        return self


class CabinCapacity(Contract):
    """A cabin's new capacity."""

    capacity: Capacity


class NightsCapacity(Contract):
    """A room type's new capacity on nights [from, to)."""

    first: IsoDate = Field(alias="from")
    last: IsoDate = Field(alias="to")
    capacity: Capacity

    @model_validator(mode="after")
    def _range(self) -> NightsCapacity:
        check_range(self.first, self.last)
        return self


class HoldListing(Contract):
    """Which holds an operator lists, newest first."""

    status: HoldStatus | None = None
    limit: query_int(1, 100) = 50  # type: ignore[valid-type]
    cursor: Cursor | None = None

    codes: ClassVar[dict[str, type[ItineraError]]] = {"limit": InvalidLimit,
                                                       "cursor": InvalidCursor}


class Stock(Contract):
    """Counts of one cabin or room night: capacity = available + held + sold."""

    capacity: int
    available: int
    held: int
    sold: int


class CabinStock(Stock):
    """A cabin's counts after a capacity change."""

    flight_id: str
    cabin: Cabin


class NightStock(Stock):
    """One night's counts after a capacity change."""

    night: str


class RoomStock(Contract):
    """A room type's nights after a capacity change."""

    hotel_id: str
    room_type: RoomCode
    nights: list[NightStock]
