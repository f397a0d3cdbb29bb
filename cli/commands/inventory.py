"""`itinera db migrate` and `itinera seed`: the inventory database."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, date, datetime
from typing import Any


def _database() -> Any:
    """Return DatabaseSettings from DB_*, with the local stack's defaults (itinera/itinera)."""
    from inventory.settings import DatabaseSettings
    from localaws.deps import mysql_config_from_env

    cfg = mysql_config_from_env(os.environ)
    return DatabaseSettings(host=cfg.host, port=cfg.port, user=cfg.user, password=cfg.password,
                            name=cfg.database)


def _migrate(_: argparse.Namespace) -> int:
    from inventory.db import close_pool, create_pool
    from inventory.migrate import ensure_database, migrate

    async def run() -> list[str]:
        db = _database()
        await ensure_database(db)
        pool = await create_pool(db)
        try:
            return await migrate(pool)
        finally:
            await close_pool(pool)

    applied = asyncio.run(run())
    print(f"applied: {', '.join(applied)}" if applied else "schema up to date")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from inventory.db import close_pool, create_pool
    from inventory.seed import seed

    async def run() -> Any:
        pool = await create_pool(_database())
        try:
            return await seed(pool, size=args.size, start_date=args.start_date, reset=args.reset)
        finally:
            await close_pool(pool)

    started = time.perf_counter()
    report = asyncio.run(run())
    print(f"seeded {args.size}: {report.flights} flight departures, {report.cabins} cabins,"
          f" {report.hotels} hotels, {report.room_nights} room nights"
          f" in {time.perf_counter() - started:.1f}s")
    return 0


def register(sub: Any) -> None:
    """Add `db migrate` and `seed` to the command line."""
    db = sub.add_parser("db", help="the inventory database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", help="apply pending migrations (idempotent)"
                      ).set_defaults(func=_migrate)

    seed = sub.add_parser("seed", help="load the deterministic demo catalog")
    seed.add_argument("--size", choices=["small", "large"], default="small")
    seed.add_argument("--reset", action="store_true", help="delete holds and catalog first")
    seed.add_argument("--start-date", type=date.fromisoformat,
                      default=datetime.now(UTC).date(), help="first day (default: today, UTC)")
    seed.set_defaults(func=_seed)
