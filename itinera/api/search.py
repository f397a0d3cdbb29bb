"""Searching flights and hotels: the queries travellers send and the pages they get back."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from itinera.api.errors import (
    InvalidCabin,
    InvalidCursor,
    InvalidGuests,
    InvalidLimit,
    InvalidPassengers,
    InvalidSort,
    InvalidStay,
    UnknownAirport,
    UnknownCity,
)
from itinera.api.types import (
    Cabin,
    CatalogId,
    ClockTime,
    Contract,
    Cursor,
    Iata,
    IsoDate,
    Money,
    RoomCode,
    Timestamp,
    query_int,
)
from itinera.errors import ItineraError

MAX_LIMIT = 50
MAX_STAY_NIGHTS = 30
MAX_PRICE = 10**9 - 1


def check_stay(check_in: date, check_out: date) -> None:
    """Raise `invalid_stay` unless check-out is 1 to 30 nights after check-in."""
    if check_out <= check_in:
        raise PydanticCustomError("invalid_stay", "check_out must be after check_in")
    if (check_out - check_in).days > MAX_STAY_NIGHTS:
        raise PydanticCustomError("invalid_stay", "a stay is at most {n} nights",
                                  {"n": MAX_STAY_NIGHTS})


class FlightSearch(Contract):
    """One-way flights on a day with enough seats in a cabin."""

    origin: Iata
    destination: Iata
    date: IsoDate
    passengers: query_int(1, 9) = 1  # type: ignore[valid-type]
    cabin: Cabin = "economy"
    sort: Literal["departure", "price", "duration"] = "departure"
    max_price: query_int(0, MAX_PRICE) | None = Field(  # type: ignore[valid-type]
        default=None, description="highest fare per seat, in minor units")
    depart_after: ClockTime | None = Field(default=None, description="local time at origin")
    depart_before: ClockTime | None = Field(default=None, description="local time at origin")
    limit: query_int(1, MAX_LIMIT) = 20  # type: ignore[valid-type]
    cursor: Cursor | None = None

    codes: ClassVar[dict[str, type[ItineraError]]] = {
        "origin": UnknownAirport, "destination": UnknownAirport,
        "passengers": InvalidPassengers, "cabin": InvalidCabin, "sort": InvalidSort,
        "limit": InvalidLimit, "cursor": InvalidCursor}

    @model_validator(mode="after")
    def _consistent(self) -> FlightSearch:
        if self.origin == self.destination:
            raise PydanticCustomError("validation_failed", "origin and destination must differ")
        if (self.depart_after is not None and self.depart_before is not None
                and self.depart_after >= self.depart_before):
            raise PydanticCustomError("validation_failed",
                                      "depart_after must be earlier than depart_before")
        return self


class HotelSearch(Contract):
    """Hotels of a city with a room free on every night of a stay."""

    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120,
                                           pattern=r"^[^\x00-\x1f\x7f]+$")]
    check_in: IsoDate
    check_out: IsoDate
    guests: query_int(1, 9) = 1  # type: ignore[valid-type]
    sort: Literal["price"] = "price"
    limit: query_int(1, MAX_LIMIT) = 20  # type: ignore[valid-type]
    cursor: Cursor | None = None

    codes: ClassVar[dict[str, type[ItineraError]]] = {
        "city": UnknownCity, "guests": InvalidGuests, "sort": InvalidSort,
        "limit": InvalidLimit, "cursor": InvalidCursor, "check_in": InvalidStay,
        "check_out": InvalidStay}

    @model_validator(mode="after")
    def _stay(self) -> HotelSearch:
        check_stay(self.check_in, self.check_out)
        return self

    @property
    def nights(self) -> int:
        """Return the number of nights of the stay."""
        return (self.check_out - self.check_in).days


class HotelStay(Contract):
    """Optional dates (both or neither) and guests for one hotel's details."""

    check_in: IsoDate | None = None
    check_out: IsoDate | None = None
    guests: query_int(1, 9) = 1  # type: ignore[valid-type]

    codes: ClassVar[dict[str, type[ItineraError]]] = {
        "guests": InvalidGuests, "check_in": InvalidStay, "check_out": InvalidStay}

    @model_validator(mode="after")
    def _stay(self) -> HotelStay:
        if (self.check_in is None) != (self.check_out is None):
            raise PydanticCustomError("invalid_stay", "give both check_in and check_out or neither")
        if self.check_in is not None and self.check_out is not None:
            check_stay(self.check_in, self.check_out)
        return self


class FlightInfo(Contract):
    """What a flight is: number, route, and times in UTC and at each end."""

    id: CatalogId
    flight_no: str
    carrier: str
    origin: str
    destination: str
    departure_utc: Timestamp
    arrival_utc: Timestamp
    departure_local: str = Field(description="ISO 8601 with the origin's UTC offset")
    arrival_local: str = Field(description="ISO 8601 with the destination's UTC offset")
    duration_min: int


class FlightOffer(FlightInfo):
    """A flight found by a search, with the searched cabin's seats left and fare."""

    cabin: Cabin
    available: int = Field(ge=0)
    fare: Money


class FlightPage(Contract):
    """One page of flights; `next_cursor` fetches the next one."""

    items: list[FlightOffer]
    next_cursor: str | None = None


class CabinAvailability(Contract):
    """One cabin's live seats and fare."""

    cabin: Cabin
    available: int = Field(ge=0)
    fare: Money


class Flight(FlightInfo):
    """A flight with the live availability of every cabin."""

    cabins: list[CabinAvailability]


class Location(Contract):
    """Where a hotel is."""

    lat: float
    lon: float


class RoomOffer(Contract):
    """A room type free on every night of the stay, for the guests asked."""

    code: RoomCode
    name: str
    max_guests: int
    rooms: int
    available: int
    price: Money


class HotelOffer(Contract):
    """A hotel found by a search, cheapest room type first."""

    id: CatalogId
    name: str
    city: str
    country: str
    stars: int
    location: Location
    check_in: str
    check_out: str
    nights: int
    guests: int
    price: Money
    room_types: list[RoomOffer]


class HotelPage(Contract):
    """One page of hotels; `next_cursor` fetches the next one."""

    items: list[HotelOffer]
    next_cursor: str | None = None


class Night(Contract):
    """One night of a room type: rooms left and the rate."""

    date: str
    available: int
    rate: Money


class RoomType(Contract):
    """A hotel's room type; with dates, its nights, rooms needed, price and bookability."""

    code: RoomCode
    name: str
    max_guests: int
    nights: list[Night] | None = None
    rooms: int | None = None
    bookable: bool | None = None
    price: Money | None = None


class Hotel(Contract):
    """A hotel with its room types and, for given dates, live availability."""

    id: CatalogId
    name: str
    city: str
    country: str
    stars: int
    location: Location
    room_types: list[RoomType]
    check_in: str | None = None
    check_out: str | None = None
    guests: int | None = None

