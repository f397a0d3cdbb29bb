"""Pure arithmetic of the catalog: distances, durations, fares and hold totals (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from inventory.errors import MixedCurrencies

EARTH_RADIUS_KM = 6371.0088
CRUISE_KMH = 800
TAXI_MIN = 30
CURRENCY = "EUR"

# Fares in euro cents: a base plus a per-km rate that falls with distance, as airlines price.
_FARE_BASE = {"economy": 39_00, "business": 189_00}
_FARE_PER_KM = {"economy": 0.085, "business": 0.36}


@dataclass(frozen=True)
class Money:
    """An amount in integer minor units with its ISO 4217 currency."""

    amount: int
    currency: str

    def as_dict(self) -> dict[str, int | str]:
        """Return the JSON shape `{"amount", "currency"}`."""
        return {"amount": self.amount, "currency": self.currency}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def duration_min(distance_km: float) -> int:
    """Return the block time in minutes: taxi plus cruise, rounded to 5 minutes."""
    raw = TAXI_MIN + distance_km / CRUISE_KMH * 60
    return max(5, int(5 * round(raw / 5)))


def fare_for(distance_km: float, cabin: str) -> int:
    """Return the one-way fare in euro cents for *cabin* over *distance_km*."""
    if cabin not in _FARE_BASE:
        raise ValueError(f"unknown cabin {cabin!r}")
    # The per-km rate tapers with the square root of distance so long hauls are cheaper per km.
    taper = 1 / math.sqrt(1 + distance_km / 2000)
    cents = _FARE_BASE[cabin] + distance_km * _FARE_PER_KM[cabin] * 100 * taper
    return round(cents / 100) * 100 - 1  # prices end in .99


def hold_total(lines: Iterable[tuple[int, Money]]) -> Money:
    """Return the sum of quantity x unit price over *lines*, all in one currency."""
    total, currency = 0, None
    for quantity, unit in lines:
        if currency is not None and unit.currency != currency:
            raise MixedCurrencies(f"{currency} and {unit.currency} cannot be added")
        currency = unit.currency
        total += quantity * unit.amount
    return Money(total, currency or CURRENCY)
