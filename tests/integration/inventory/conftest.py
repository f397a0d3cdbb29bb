"""Fixtures for inventory integration tests: a dedicated MariaDB database and Redis db 15."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomysql
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from inventory.db import close_pool, create_pool, fetch_all
from inventory.main import create_app
from inventory.migrate import migrate
from inventory.seed import seed
from inventory.settings import DatabaseSettings, Settings
from tests.waiting import eventually_sync

TEST_DB = os.environ.get("ITINERA_TEST_INVENTORY_DB", "itinera_test_inventory")
REDIS_URL = os.environ.get("INVENTORY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOKEN = "test-service-token"
# Test flights live above the seeded ids; admin-created flights take MAX(id) + 1 after them.
TEST_ID_FLOOR = 9_000_000_000

ClientFactory = Callable[..., Any]


def db_settings(name: str = TEST_DB) -> DatabaseSettings:
    """Return the test database's settings; DB_HOST etc. may point CI elsewhere."""
    return replace(DatabaseSettings.from_env(), name=name)


def app_settings(**overrides: Any) -> Settings:
    """Return app settings for the test database and Redis db 15."""
    base = Settings(db=db_settings(), gateway_token=TOKEN, checkout_token=TOKEN,
                    redis_url=REDIS_URL, sweep_interval_seconds=3600)
    return replace(base, **overrides)


async def recreate_database(name: str) -> None:
    """Drop database *name* if it exists and create it empty."""
    admin = await create_pool(db_settings(name), database=False, maxsize=1)
    try:
        async with admin.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM information_schema.schemata"
                              " WHERE schema_name = %s", (name,))
            if (await cur.fetchone())[0]:
                await cur.execute(f"DROP DATABASE `{name}`")
            await cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    finally:
        await close_pool(admin)


@pytest.fixture(scope="session")
async def pool() -> AsyncIterator[aiomysql.Pool]:
    """A migrated, seeded test database, fresh for each session."""
    await recreate_database(TEST_DB)
    the_pool = await create_pool(db_settings(), maxsize=5)
    await migrate(the_pool)
    await seed(the_pool, size="small", start_date=datetime.now(UTC).date(), reset=True)
    yield the_pool
    await close_pool(the_pool)


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    """A client of Redis db 15, flushed before the test."""
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
def start_client(pool: aiomysql.Pool, redis: aioredis.Redis
                 ) -> Callable[..., Any]:
    """Return a context manager that runs the real app with settings overrides."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[TestClient[Any, Any]]:
        client = TestClient(TestServer(create_app(app_settings(**overrides))))
        await client.start_server()
        try:
            yield client
        finally:
            await client.close()

    return start


@pytest.fixture
async def client(start_client: ClientFactory) -> AsyncIterator[TestClient[Any, Any]]:
    """The app with default test settings."""
    async with start_client() as the_client:
        yield the_client


@pytest.fixture
def make_flight(pool: aiomysql.Pool) -> Callable[..., Awaitable[int]]:
    """Return a function that inserts a flight with chosen seats and returns its id."""

    async def make(*, origin: str = "AMS", destination: str = "MAD", day: date | None = None,
                   at: timedelta = timedelta(hours=8), economy: int = 20, business: int = 5,
                   fare: int = 10_000) -> int:
        day = day or datetime.now(UTC).date() + timedelta(days=2)
        departure = datetime.combine(day, datetime.min.time()) + at
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT GREATEST(COALESCE(MAX(id), 0), %s) + 1 FROM flights",
                              (TEST_ID_FLOOR,))
            flight_id = int((await cur.fetchone())[0])
            await cur.execute(
                "INSERT INTO flights (id, flight_no, carrier, origin, destination, departure_utc,"
                " arrival_utc, departure_date_local, duration_min)"
                " VALUES (%s, 'KL9999', 'KL', %s, %s, %s, %s, %s, 150)",
                (flight_id, origin, destination, departure, departure + timedelta(minutes=150),
                 day))
            await cur.executemany(
                "INSERT INTO flight_cabins (flight_id, cabin, capacity, available, fare_amount,"
                " currency) VALUES (%s, %s, %s, %s, %s, 'EUR')",
                [(flight_id, "economy", economy, economy, fare),
                 (flight_id, "business", business, business, fare * 4)])
        return flight_id

    return make


@pytest.fixture
def counts(pool: aiomysql.Pool) -> Callable[..., Awaitable[dict[str, int]]]:
    """Return a function reading a cabin's capacity, available, held and sold."""

    async def read(flight_id: int, cabin: str = "economy") -> dict[str, int]:
        rows = await fetch_all(pool, "SELECT capacity, available, held, sold FROM flight_cabins"
                                     " WHERE flight_id = %s AND cabin = %s", (flight_id, cabin))
        return dict(rows[0])

    return read


HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Poll *url* until it answers 200, failing early if *process* died."""
    import urllib.request

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the inventory process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    eventually_sync(ready, within=timeout, every=0.1, what=f"{url} ready")


@pytest.fixture
def inventory_process(pool: aiomysql.Pool, tmp_path: Path) -> Callable[..., Any]:
    """Return a context manager running `python -m inventory` on a free port; yields its URL."""

    @contextmanager
    def run(**env_overrides: str) -> Iterator[str]:
        port = free_port()
        db = db_settings()
        env = {**os.environ, "DB_HOST": db.host, "DB_PORT": str(db.port), "DB_USER": db.user,
               "DB_PASSWORD": db.password, "DB_NAME": db.name, "REDIS_URL": REDIS_URL,
               "GATEWAY_SERVICE_TOKEN": TOKEN, "CHECKOUT_SERVICE_TOKEN": TOKEN,
               "PORT": str(port), "SWEEP_INTERVAL_SECONDS": "3600",
               **env_overrides}
        with (tmp_path / "inventory.log").open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "inventory"], env=env, cwd=ROOT,
                                       stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/ready", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    return run


def fire_from_processes(url: str, body: dict[str, Any], *, processes: int = 4,
                        per_process: int = 75) -> list[list[Any]]:
    """POST *body* processes x per_process times at once, from separate OS processes."""
    import json

    start_at = time.time() + 2.0  # every process connects first, then all fire together
    children = [subprocess.Popen([sys.executable, str(HERE / "fire.py"), url, str(per_process),
                                  json.dumps(body), TOKEN, str(start_at)],
                                 stdout=subprocess.PIPE, cwd=ROOT)
                for _ in range(processes)]
    results: list[list[Any]] = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        results.extend(json.loads(out))
    return results


@pytest.fixture
def make_hotel(pool: aiomysql.Pool) -> Callable[..., Awaitable[int]]:
    """Return a function inserting a hotel; *nights* maps codes to (capacity, available, rate)."""

    async def make(*, city: str = "Testville", nights: dict[str, list[tuple[int, int, int]]],
                   start: date | None = None, max_guests: int | dict[str, int] = 2) -> int:
        start = start or datetime.now(UTC).date() + timedelta(days=3)
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT GREATEST(COALESCE(MAX(id), 0), %s) + 1 FROM hotels",
                              (TEST_ID_FLOOR,))
            hotel_id = int((await cur.fetchone())[0])
            await cur.execute("INSERT INTO hotels (id, name, city, country, tz, stars, lat, lon)"
                              " VALUES (%s, %s, %s, 'NL', 'Europe/Amsterdam', 3, 52.3, 4.9)",
                              (hotel_id, f"Test Hotel {hotel_id}", city))
            for n, (code, per_night) in enumerate(sorted(nights.items()), start=1):
                type_id = hotel_id * 10 + n
                await cur.execute("INSERT INTO room_types (id, hotel_id, code, name, max_guests)"
                                  " VALUES (%s, %s, %s, %s, %s)",
                                  (type_id, hotel_id, code, code.title(),
                                   max_guests if isinstance(max_guests, int)
                                   else max_guests[code]))
                await cur.executemany(
                    "INSERT INTO room_nights (room_type_id, night, capacity, available, sold,"
                    " rate_amount, currency) VALUES (%s, %s, %s, %s, %s, %s, 'EUR')",
                    [(type_id, start + timedelta(days=d), cap, avail, cap - avail, rate)
                     for d, (cap, avail, rate) in enumerate(per_night)])
        return hotel_id

    return make


@pytest.fixture
def night_counts(pool: aiomysql.Pool) -> Callable[..., Awaitable[list[dict[str, int]]]]:
    """Return a function reading capacity, available, held and sold of a room type by night."""

    async def read(hotel_id: int, code: str) -> list[dict[str, int]]:
        rows = await fetch_all(pool, "SELECT n.capacity, n.available, n.held, n.sold FROM"
                                     " room_nights n JOIN room_types t ON t.id = n.room_type_id"
                                     " WHERE t.hotel_id = %s AND t.code = %s ORDER BY n.night",
                               (hotel_id, code))
        return [dict(r) for r in rows]

    return read
