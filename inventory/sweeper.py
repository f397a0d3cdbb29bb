"""The background task that expires overdue holds and gives their seats back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from inventory.holds import HoldRepository
from inventory.keys import holds_key, settings_key, sweeper_key

log = logging.getLogger("inventory.sweeper")

BATCH = 50
MAX_BATCHES_PER_TICK = 20  # bounds one tick's work; the next tick continues


async def sweep_once(holds: HoldRepository) -> int:
    """Expire overdue holds in small batches; return how many were expired."""
    total = 0
    for _ in range(MAX_BATCHES_PER_TICK):
        done = await holds.expire_due(batch=BATCH)
        total += done
        if done < BATCH:
            break
    return total


async def run_sweeper(holds: HoldRepository, interval: float) -> None:
    """Sweep every *interval* seconds until cancelled; a failed sweep is logged, not fatal."""
    while True:
        try:
            expired = await sweep_once(holds)
            if expired:
                log.info("holds expired", extra={"count": expired})
        except Exception:
            log.exception("hold sweep failed")
        await asyncio.sleep(interval)


async def sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the sweeper for the app's lifetime and cancel it on exit."""
    task = asyncio.create_task(run_sweeper(app[holds_key],
                                           app[settings_key].sweep_interval_seconds))
    app[sweeper_key] = task
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
