"""Holding seats and room nights: the request, and the hold a traveller reads back."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from itinera.api.errors import InvalidHoldItems
from itinera.api.search import check_stay
from itinera.api.types import (
    CABINS,
    Cabin,
    CatalogId,
    Contract,
    HexId,
    IsoDate,
    Money,
    RoomCode,
    Timestamp,
    count,
)
from itinera.errors import ItineraError

MAX_ITEMS = 5
HoldStatus = Literal["active", "confirmed", "released", "expired", "cancelled"]


class FlightItem(Contract):
    """Seats asked for on one flight cabin; the server prices them."""

    kind: Literal["flight"]
    flight_id: CatalogId
    cabin: Cabin
    quantity: count()  # type: ignore[valid-type]

    @property
    def identity(self) -> tuple[str, int, str]:
        """Return what makes two items of one hold the same item."""
        return ("flight", self.flight_id, self.cabin)

    @property
    def lock_key(self) -> tuple[int, int]:
        """Return the key that fixes the order in which cabin rows are locked."""
        # Cabin by enum position, the order `ORDER BY flight_id, cabin` gives in MySQL too.
        return (self.flight_id, CABINS.index(self.cabin))


class HotelItem(Contract):
    """Rooms asked for on every night of a stay in one hotel room type."""

    kind: Literal["hotel"]
    hotel_id: CatalogId
    room_type: RoomCode
    check_in: IsoDate
    check_out: IsoDate
    rooms: count()  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _stay(self) -> HotelItem:
        check_stay(self.check_in, self.check_out)
        return self

    @property
    def identity(self) -> tuple[str, int, str]:
        """Return what makes two items of one hold the same item."""
        return ("hotel", self.hotel_id, self.room_type)

    @property
    def nights(self) -> int:
        """Return the number of nights of the stay."""
        return (self.check_out - self.check_in).days


HoldItem = Annotated[FlightItem | HotelItem, Field(discriminator="kind")]


class HoldRequest(Contract):
    """Hold every item or none; prices are never accepted from the client."""

    items: list[HoldItem] = Field(min_length=1, max_length=MAX_ITEMS)

    codes: ClassVar[dict[str, type[ItineraError]]] = {"items": InvalidHoldItems}

    @model_validator(mode="after")
    def _distinct(self) -> HoldRequest:
        if len({i.identity for i in self.items}) != len(self.items):
            raise PydanticCustomError("invalid_hold_items",
                                      "the same flight cabin or hotel room type appears twice")
        return self


class HeldFlight(Contract):
    """Seats held on one flight cabin, at the price locked in when they were held."""

    kind: Literal["flight"]
    flight_id: CatalogId
    cabin: Cabin
    quantity: int
    unit_price: Money


class HeldRooms(Contract):
    """Rooms held on every night of a stay; `unit_price` is one room for the whole stay."""

    kind: Literal["hotel"]
    hotel_id: CatalogId
    room_type: RoomCode
    check_in: IsoDate
    check_out: IsoDate
    rooms: int
    unit_price: Money

    @property
    def nights(self) -> int:
        """Return the number of nights of the stay."""
        return (self.check_out - self.check_in).days


# What a hold keeps and a booking buys: seats or rooms at their locked-in price.
HeldItem = Annotated[HeldFlight | HeldRooms, Field(discriminator="kind")]


class Hold(Contract):
    """A hold: items, total, and until when it keeps them."""

    id: HexId
    customer_id: str
    status: HoldStatus
    items: list[HeldItem]
    total: Money
    expires_at: Timestamp
    created_at: Timestamp
    booking_id: str | None = Field(default=None,
                                   description="the booking paying for (or that bought) it")


class HoldSummary(Contract):
    """A hold in an operator's listing."""

    id: HexId
    customer_id: str
    status: HoldStatus
    booking_id: str | None = None
    total: Money
    created_at: Timestamp
    expires_at: Timestamp


class HoldPage(Contract):
    """One page of holds for an operator."""

    items: list[HoldSummary]
    next_cursor: str | None = None
