"""The models of messages between services: the holds checkout reads from inventory."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from itinera.api.holds import HeldFlight, HeldRooms, Hold

FLIGHT = {"kind": "flight", "flight_id": "7", "cabin": "business", "quantity": 1,
          "unit_price": {"amount": 90000, "currency": "EUR"}}
HOTEL = {"kind": "hotel", "hotel_id": "12", "room_type": "double", "check_in": "2026-12-01",
         "check_out": "2026-12-04", "rooms": 2, "unit_price": {"amount": 30000, "currency": "EUR"}}
# A hold as inventory's internal API answers it (inventory/hold_rows.py).
HOLD = {"id": "f" * 32, "customer_id": "alice", "status": "active", "items": [FLIGHT, HOTEL],
        "total": {"amount": 150000, "currency": "EUR"}, "expires_at": "2026-11-27T09:15:00Z",
        "created_at": "2026-11-27T09:00:00Z", "booking_id": None}



def test_a_hold_from_inventory_parses_into_typed_items() -> None:
    """Inventory's answer is the contract's Hold: flight and hotel items by kind, typed ids,
    dates and money."""
    hold = Hold.model_validate(HOLD)
    flight, hotel = hold.items
    assert isinstance(flight, HeldFlight) and flight.flight_id == 7
    assert isinstance(hotel, HeldRooms) and hotel.hotel_id == 12
    assert (hotel.check_in, hotel.nights, hotel.rooms) == (date(2026, 12, 1), 3, 2)
    assert hold.total.amount == 150000 and hold.booking_id is None
    assert hold.model_dump(mode="json") == HOLD


def test_a_hold_outside_the_contract_is_refused() -> None:
    """A hold with an unknown status or a mangled item does not parse."""
    with pytest.raises(ValidationError):
        Hold.model_validate({**HOLD, "status": "lost"})
    with pytest.raises(ValidationError):
        Hold.model_validate({**HOLD, "items": [{**HOTEL, "check_out": "2026-13-01"}]})
