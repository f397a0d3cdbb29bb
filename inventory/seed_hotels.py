"""Deterministic hotels for the demo catalog: real cities, room types and nightly rates."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import airportsdata

from inventory.pricing import CURRENCY

# (brand, stars): the hotels of a city take brands in this order.
BRANDS = (("Grand Hotel", 5), ("Plaza", 4), ("Park Inn", 3), ("Harbour View", 4),
          ("Central Suites", 4), ("Old Town Lodge", 3), ("Airport Hotel", 3),
          ("Riverside", 4), ("Budget Rooms", 2), ("City Hostel", 1))
# (code, name, max guests, rate factor against the hotel's base rate)
ROOM_TYPES = (("single", "Single room", 1, 0.8), ("double", "Double room", 2, 1.0),
              ("family", "Family room", 4, 1.6), ("suite", "Suite", 3, 2.5))
BASE_RATE = {1: 35_00, 2: 60_00, 3: 95_00, 4: 150_00, 5: 260_00}  # euro cents a night
WEEKEND_FACTOR = 1.15


@dataclass(frozen=True)
class City:
    """A real city (from `airportsdata`) with the zone and coordinates of its airport."""

    name: str
    country: str
    tz: str
    lat: float
    lon: float


def cities_of(codes: list[str]) -> list[City]:
    """Return the distinct cities of airports *codes*, in their order."""
    airports = airportsdata.load("IATA")
    seen: dict[tuple[str, str], City] = {}
    for code in codes:
        a = airports[code]
        key = (a["city"], a["country"])
        if key not in seen and a["city"]:
            seen[key] = City(a["city"][:120], a["country"], a["tz"], a["lat"], a["lon"])
    return list(seen.values())


def more_cities(known: list[City], count: int, rng: random.Random) -> list[City]:
    """Return *known* plus a deterministic sample of other real cities, *count* in all."""
    airports = airportsdata.load("IATA")
    taken = {(c.name, c.country) for c in known}
    pool = sorted({(a["city"], a["country"]): code for code, a in airports.items()
                   if a["city"] and a["tz"] and len(code) == 3}.items())
    extra = [code for key, code in pool if key not in taken]
    picked = rng.sample(extra, max(0, count - len(known)))
    return known + cities_of(sorted(picked))


def hotel_rows(cities: list[City], *, per_city: int, days: int, start_date: date,
               rng: random.Random) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]],
                                                     list[tuple[Any, ...]]]]:
    """Yield (hotel row, room type rows, room night rows) for *per_city* hotels per city."""
    hotel_id = 0
    for city in cities:
        for brand, stars in BRANDS[:per_city]:
            hotel_id += 1
            lat = round(city.lat + rng.uniform(-0.2, 0.2), 5)
            lon = round(city.lon + rng.uniform(-0.2, 0.2), 5)
            hotel = (hotel_id, f"{brand} {city.name}"[:200], city.name, city.country, city.tz,
                     stars, lat, lon)
            base = BASE_RATE[stars] * rng.uniform(0.8, 1.3)
            types, nights = [], []
            offered = ROOM_TYPES[:2] if stars <= 2 else ROOM_TYPES[:3 + (stars == 5)]
            for n, (code, name, guests, factor) in enumerate(offered, start=1):
                type_id = hotel_id * 10 + n
                types.append((type_id, hotel_id, code, name, guests))
                capacity = rng.randint(4, 40)
                for day in range(days):
                    night = start_date + timedelta(days=day)
                    weekend = WEEKEND_FACTOR if night.weekday() >= 4 else 1.0
                    rate = round(base * factor * weekend / 100) * 100
                    nights.append((type_id, night, capacity, capacity, rate, CURRENCY))
            yield hotel, types, nights
