"""Three hundred simultaneous holds from four OS processes against a real inventory process."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import fire_from_processes


async def test_300_holds_on_50_seats_sell_exactly_50(inventory_process: Any, make_flight: Any,
                                                     counts: Any) -> None:
    """Of 300 one-seat holds at once on a 50-seat cabin, exactly 50 win and 250 get sold_out."""
    flight_id = await make_flight(economy=50)
    body = {"items": [{"kind": "flight", "flight_id": str(flight_id), "cabin": "economy",
                       "quantity": 1}]}
    with inventory_process() as url:
        results = await asyncio.to_thread(fire_from_processes, url + "/internal/holds", body)
    outcomes = Counter((status, code) for status, code, _ in results)
    assert outcomes == {(201, None): 50, (409, "sold_out"): 250}
    assert len({hold_id for status, _, hold_id in results if status == 201}) == 50
    after = await counts(flight_id)
    assert after == {"capacity": 50, "available": 0, "held": 50, "sold": 0}
    assert after["capacity"] == after["available"] + after["held"] + after["sold"]


async def test_300_holds_on_a_stay_with_one_tight_night(inventory_process: Any, make_hotel: Any,
                                                        night_counts: Any) -> None:
    """A 3-night stay whose 2nd night has 5 rooms left: 5 holds win; nights 1 and 3 lose 5."""
    hotel_id = await make_hotel(nights={"double": [(40, 40, 100_00), (40, 5, 120_00),
                                                   (40, 40, 100_00)]})
    rows = await night_counts(hotel_id, "double")
    assert [r["available"] for r in rows] == [40, 5, 40]
    check_in = datetime.now(UTC).date() + timedelta(days=3)
    body = {"items": [{"kind": "hotel", "hotel_id": str(hotel_id), "room_type": "double",
                       "check_in": check_in.isoformat(),
                       "check_out": (check_in + timedelta(days=3)).isoformat(), "rooms": 1}]}
    with inventory_process() as url:
        results = await asyncio.to_thread(fire_from_processes, url + "/internal/holds", body)
    outcomes = Counter((status, code) for status, code, _ in results)
    assert outcomes == {(201, None): 5, (409, "sold_out"): 295}
    assert await night_counts(hotel_id, "double") == [
        {"capacity": 40, "available": 35, "held": 5, "sold": 0},
        {"capacity": 40, "available": 0, "held": 5, "sold": 35},
        {"capacity": 40, "available": 35, "held": 5, "sold": 0}]
