"""Migrations and the seeded catalog."""

from __future__ import annotations

import time
from datetime import date

import aiomysql

from inventory.db import close_pool, create_pool, fetch_all
from inventory.migrate import load_migrations, migrate
from inventory.seed import seed

from .conftest import TEST_DB, db_settings, recreate_database

SEED_DB = f"{TEST_DB}_seed"  # follows the run's own test database name


async def test_migrate_twice_is_a_no_op(pool: aiomysql.Pool) -> None:
    """A second migrate applies nothing and records nothing new."""
    assert await migrate(pool) == []
    rows = await fetch_all(pool, "SELECT version FROM schema_migrations")
    assert [r["version"] for r in rows] == [m.version for m in load_migrations()]


async def _fingerprint(pool: aiomysql.Pool) -> list[dict[str, object]]:
    return [
        *await fetch_all(pool, "SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS(',', id, flight_no,"
                               " origin, destination, departure_utc, arrival_utc,"
                               " departure_date_local, duration_min))) AS crc FROM flights"),
        *await fetch_all(pool, "SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS(',', flight_id, cabin,"
                               " capacity, available, fare_amount, currency))) AS crc"
                               " FROM flight_cabins"),
    ]


async def test_seed_is_deterministic_and_fast() -> None:
    """Seeding twice with reset gives identical rows, and a small seed takes seconds."""
    await recreate_database(SEED_DB)
    pool = await create_pool(db_settings(SEED_DB))
    try:
        await migrate(pool)
        started = time.perf_counter()
        first = await seed(pool, size="small", start_date=date(2031, 3, 1), reset=True)
        elapsed = time.perf_counter() - started
        fingerprint = await _fingerprint(pool)
        second = await seed(pool, size="small", start_date=date(2031, 3, 1), reset=True)
        assert (first.flights, first.cabins) == (second.flights, second.cabins)
        assert first.flights > 1000 and first.cabins == 2 * first.flights
        assert await _fingerprint(pool) == fingerprint
        assert elapsed < 10
    finally:
        await close_pool(pool)


async def test_seed_without_reset_keeps_existing_flights(pool: aiomysql.Pool) -> None:
    """Seeding again without reset adds no flights, so a running demo keeps its holds."""
    before = await fetch_all(pool, "SELECT COUNT(*) AS n FROM flights")
    report = await seed(pool, size="small", start_date=date(2031, 3, 1), reset=False)
    assert report.flights == 0
    assert await fetch_all(pool, "SELECT COUNT(*) AS n FROM flights") == before


async def test_seeded_counts_respect_the_invariant(pool: aiomysql.Pool) -> None:
    """Every seeded cabin starts with capacity = available and real airports on both ends."""
    rows = await fetch_all(pool, "SELECT COUNT(*) AS bad FROM flight_cabins"
                                 " WHERE capacity <> available + held + sold OR available < 0")
    assert rows[0]["bad"] == 0
    rows = await fetch_all(pool, "SELECT DISTINCT origin FROM flights WHERE id < 9000000000"
                                 " ORDER BY origin")
    assert {r["origin"] for r in rows} >= {"LHR", "JFK", "SIN", "SYD"}
