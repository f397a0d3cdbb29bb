"""A deterministic demo catalog: real hub airports, daily schedules, capacities and fares."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

import aiomysql
import airportsdata

from inventory.db import close_pool, create_pool
from inventory.pricing import CURRENCY, duration_min, fare_for, haversine_km
from inventory.seed_hotels import City, cities_of, hotel_rows, more_cities
from inventory.settings import DatabaseSettings
from itinera.api.types import CABINS

log = logging.getLogger("inventory.seed")

# Hub -> the carrier based there; each route is flown by the origin hub's carrier.
HUBS = {
    "LHR": "BA", "CDG": "AF", "FRA": "LH", "AMS": "KL", "MAD": "IB", "FCO": "AZ", "JFK": "AA",
    "LAX": "DL", "SFO": "UA", "ORD": "UA", "DXB": "EK", "SIN": "SQ", "HND": "NH", "SYD": "QF",
}
SIZES = {"small": 14, "medium": 30, "large": 60}  # days of schedule
# Large adds these airports (and their home carriers), one daily departure a route.
MORE_AIRPORTS = {
    "MUC": "LH", "ZRH": "LX", "VIE": "OS", "CPH": "SK", "DUB": "EI", "LIS": "TP", "IST": "TK",
    "BCN": "VY", "DOH": "QR", "DEL": "AI", "HKG": "CX", "ICN": "KE", "BKK": "TG", "YYZ": "AC",
    "MEX": "AM", "GRU": "LA", "ATL": "DL", "SEA": "AS", "BOS": "B6", "JNB": "SA",
}
# (cities with hotels, hotels per city): small covers the hubs, large at least 2,000 hotels.
HOTELS = {"small": (0, 4), "medium": (60, 6), "large": (200, 10)}
MAX_NONSTOP_KM = 14_500  # beyond this no airliner flies the route nonstop
CAPACITY = {"economy": (30, 180), "business": (8, 30)}
BATCH = 1000


@dataclass(frozen=True)
class SeedReport:
    """What a seed run wrote."""

    airports: int
    flights: int
    cabins: int
    seconds: float
    hotels: int = 0
    room_nights: int = 0


def airport_rows() -> list[tuple[Any, ...]]:
    """Return every IATA airport of `airportsdata` as an `airports` row."""
    rows = []
    for code, a in sorted(airportsdata.load("IATA").items()):
        if len(code) == 3 and a["tz"]:
            rows.append((code, a["name"][:200], a["city"][:120], a["country"], a["tz"],
                         a["lat"], a["lon"]))
    return rows


def flight_rows(*, size: str, start_date: date
                ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Yield (flight row, its cabin rows) for the schedule of *size*, from *start_date*."""
    airports = airportsdata.load("IATA")
    rng = random.Random(f"itinera-inventory-{size}")  # noqa: S311 - demo data, not secrets
    schedule = []
    numbers = dict.fromkeys(HUBS.values(), 100)
    for origin in sorted(HUBS):
        for destination in sorted(HUBS):
            a, b = airports[origin], airports[destination]
            km = haversine_km(a["lat"], a["lon"], b["lat"], b["lon"])
            if origin == destination or km > MAX_NONSTOP_KM:
                continue
            slots = sorted(set(rng.randrange(6 * 12, 23 * 12) for _ in range(rng.randint(1, 3))))
            for slot in slots:
                carrier = HUBS[origin]
                numbers[carrier] += 1
                schedule.append((origin, destination, km, carrier,
                                 f"{carrier}{numbers[carrier]}", clock(slot // 12, slot % 12 * 5)))
    if size == "large":
        schedule += _more_routes(airports)
    flight_id = 0
    for day in range(SIZES[size]):
        local_date = start_date + timedelta(days=day)
        for origin, destination, km, carrier, flight_no, at in schedule:
            flight_id += 1
            tz = ZoneInfo(airports[origin]["tz"])
            departure = datetime.combine(local_date, at, tz).astimezone(UTC).replace(tzinfo=None)
            minutes = duration_min(km)
            flight = (flight_id, flight_no, carrier, origin, destination, departure,
                      departure + timedelta(minutes=minutes), local_date, minutes)
            cabins = []
            for cabin in CABINS:
                capacity = rng.randint(*CAPACITY[cabin])
                cabins.append((flight_id, cabin, capacity, capacity, fare_for(km, cabin),
                               CURRENCY))
            yield flight, cabins


def _more_routes(airports: dict[str, Any]) -> list[tuple[Any, ...]]:
    rng = random.Random("itinera-inventory-more-routes")  # noqa: S311 - demo data
    every = {**HUBS, **MORE_AIRPORTS}
    numbers = dict.fromkeys(every.values(), 3000)
    routes = []
    for origin in sorted(every):
        for destination in sorted(every):
            if origin == destination or (origin in HUBS and destination in HUBS):
                continue
            a, b = airports[origin], airports[destination]
            km = haversine_km(a["lat"], a["lon"], b["lat"], b["lon"])
            if km > MAX_NONSTOP_KM:
                continue
            slot = rng.randrange(6 * 12, 23 * 12)
            carrier = every[origin]
            numbers[carrier] += 1
            routes.append((origin, destination, km, carrier, f"{carrier}{numbers[carrier]}",
                           clock(slot // 12, slot % 12 * 5)))
    return routes


def hotel_cities(size: str) -> list[City]:
    """Return the cities that get hotels: the network's cities first, then other real ones."""
    codes = sorted(HUBS) + (sorted(MORE_AIRPORTS) if size == "large" else [])
    rng = random.Random(f"itinera-hotels-{size}")  # noqa: S311 - demo data
    return more_cities(cities_of(codes), HOTELS[size][0], rng)


async def _insert(cur: aiomysql.Cursor, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    for i in range(0, len(rows), BATCH):
        await cur.executemany(sql, rows[i:i + BATCH])


async def seed(pool: aiomysql.Pool, *, size: str = "small", start_date: date,
               reset: bool) -> SeedReport:
    """Load airports and, if there are none yet or *reset* is set, the flight schedule."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}")
    started = time.perf_counter()
    airports = airport_rows()
    flights: list[tuple[Any, ...]] = []
    cabins: list[tuple[Any, ...]] = []
    hotels = nights = 0
    async with pool.acquire() as conn, conn.cursor() as cur:
        if reset:
            # TRUNCATE refuses tables referenced by foreign keys unless checks are off.
            await cur.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table in ("hold_items", "holds", "flight_cabins", "flights", "room_nights",
                              "room_types", "hotels"):
                    await cur.execute(f"TRUNCATE TABLE {table}")  # fixed names, not input
            finally:
                await cur.execute("SET FOREIGN_KEY_CHECKS = 1")
        await conn.begin()
        try:
            await _insert(cur, "INSERT INTO airports (iata, name, city, country, tz, lat, lon)"
                               " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                               " ON DUPLICATE KEY UPDATE name = VALUES(name),"
                               " city = VALUES(city), country = VALUES(country), tz = VALUES(tz),"
                               " lat = VALUES(lat), lon = VALUES(lon)", airports)
            await cur.execute("SELECT COUNT(*) FROM flights")
            if (await cur.fetchone())[0] == 0:
                for flight, its_cabins in flight_rows(size=size, start_date=start_date):
                    flights.append(flight)
                    cabins.extend(its_cabins)
                await _insert(cur, "INSERT INTO flights (id, flight_no, carrier, origin,"
                                   " destination, departure_utc, arrival_utc,"
                                   " departure_date_local, duration_min)"
                                   " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", flights)
                await _insert(cur, "INSERT INTO flight_cabins (flight_id, cabin, capacity,"
                                   " available, fare_amount, currency)"
                                   " VALUES (%s, %s, %s, %s, %s, %s)", cabins)
            else:
                log.info("flights exist; pass --reset to replace them")
            await cur.execute("SELECT COUNT(*) FROM hotels")
            if (await cur.fetchone())[0] == 0:
                hotels, nights = await _seed_hotels(cur, size=size, start_date=start_date)
            await conn.commit()
        except BaseException:
            await conn.rollback()
            raise
    report = SeedReport(len(airports), len(flights), len(cabins),
                        round(time.perf_counter() - started, 2), hotels, nights)
    log.info("seeded", extra={"airports": report.airports, "flights": report.flights,
                              "cabins": report.cabins, "hotels": report.hotels,
                              "room_nights": report.room_nights, "seconds": report.seconds})
    return report


async def _seed_hotels(cur: aiomysql.Cursor, *, size: str, start_date: date
                       ) -> tuple[int, int]:
    """Insert the hotels of *size* with their room types and nights; return the counts."""
    rng = random.Random(f"itinera-hotel-rows-{size}")  # noqa: S311 - demo data
    hotels: list[tuple[Any, ...]] = []
    types: list[tuple[Any, ...]] = []
    nights: list[tuple[Any, ...]] = []
    for hotel, its_types, its_nights in hotel_rows(hotel_cities(size), per_city=HOTELS[size][1],
                                                   days=SIZES[size], start_date=start_date,
                                                   rng=rng):
        hotels.append(hotel)
        types.extend(its_types)
        nights.extend(its_nights)
    await _insert(cur, "INSERT INTO hotels (id, name, city, country, tz, stars, lat, lon)"
                       " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", hotels)
    await _insert(cur, "INSERT INTO room_types (id, hotel_id, code, name, max_guests)"
                       " VALUES (%s, %s, %s, %s, %s)", types)
    await _insert(cur, "INSERT INTO room_nights (room_type_id, night, capacity, available,"
                       " rate_amount, currency) VALUES (%s, %s, %s, %s, %s, %s)", nights)
    return len(hotels), len(nights)


async def _main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m inventory.seed", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--reset", action="store_true",
                        help="delete holds and flights first so the demo starts clean")
    parser.add_argument("--start-date", type=date.fromisoformat,
                        default=datetime.now(UTC).date(), help="first day (default: today, UTC)")
    args = parser.parse_args(argv)
    pool = await create_pool(DatabaseSettings.from_env())
    try:
        report = await seed(pool, size=args.size, start_date=args.start_date, reset=args.reset)
        print(f"seeded {args.size}: {report.flights} flights, {report.cabins} cabins,"
              f" {report.hotels} hotels, {report.room_nights} room nights"
              f" in {report.seconds:.1f}s")
    finally:
        await close_pool(pool)


if __name__ == "__main__":
    from itinera.logs import configure_logging

    configure_logging("inventory")
    asyncio.run(_main())
