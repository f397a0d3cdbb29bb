"""Pure catalog arithmetic: distance, duration, fares and hold totals."""

from __future__ import annotations

import pytest

from inventory.errors import MixedCurrencies
from inventory.pricing import Money, duration_min, fare_for, haversine_km, hold_total


def test_haversine_london_new_york() -> None:
    """LHR to JFK is about 5,540 km along the great circle."""
    assert haversine_km(51.4706, -0.46194, 40.6398, -73.7789) == pytest.approx(5540, abs=10)


def test_haversine_is_symmetric_and_zero_on_the_spot() -> None:
    """The distance does not depend on direction and is zero from a point to itself."""
    assert haversine_km(1.0, 2.0, 3.0, 4.0) == pytest.approx(haversine_km(3.0, 4.0, 1.0, 2.0))
    assert haversine_km(10.0, 20.0, 10.0, 20.0) == 0


def test_duration_adds_taxi_time_and_rounds_to_five_minutes() -> None:
    """800 km takes 30 min taxi + 60 min cruise; every duration is a multiple of 5."""
    assert duration_min(800) == 90
    assert all(duration_min(km) % 5 == 0 for km in range(0, 16000, 137))
    assert duration_min(0) == 30


def test_fare_grows_with_distance_and_business_costs_more() -> None:
    """Longer flights cost more, business more than economy, all in whole cents ending .99."""
    for cabin in ("economy", "business"):
        fares = [fare_for(km, cabin) for km in (300, 1000, 5000, 12000)]
        assert fares == sorted(fares)
        assert all(isinstance(f, int) and f % 100 == 99 for f in fares)
    assert fare_for(5000, "business") > 3 * fare_for(5000, "economy")


def test_fare_rejects_unknown_cabin() -> None:
    """An unknown cabin is a programming error, not a price."""
    with pytest.raises(ValueError, match="cabin"):
        fare_for(1000, "first")


def test_hold_total_sums_quantity_times_unit_price() -> None:
    """The total is the sum of quantity x unit amount in the items' currency."""
    total = hold_total([(2, Money(10_099, "EUR")), (1, Money(50_000, "EUR"))])
    assert total == Money(70_198, "EUR")


def test_hold_total_refuses_mixed_currencies() -> None:
    """Amounts in different currencies are never added."""
    with pytest.raises(MixedCurrencies):
        hold_total([(1, Money(100, "EUR")), (1, Money(100, "USD"))])
