"""Scheduled Lambda: put bookings that stayed in flight too long back on the queue."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from checkout.repository import BookingRepository
from checkout.runtime import dependencies, run
from itinera.logs import configure_logging
from itinera.settings import env_int

configure_logging("checkout-reconciler")
log = logging.getLogger("checkout.reconciler")
RECONCILE_AFTER_SECONDS = "RECONCILE_AFTER_SECONDS"


async def requeue_stuck(bookings: BookingRepository, enqueue: Any, *, older_than: timedelta,
                        now: datetime) -> list[str]:
    """Send a checkout message for each booking in flight longer than *older_than*.

    A booking stays `pending` only if its message was lost (the API died between writing the
    booking and sending it); the saga is idempotent, so a spare message is harmless.
    """
    cutoff = (now - older_than).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    stuck = await bookings.open_since(cutoff)
    for booking_id in stuck:
        await enqueue(booking_id)
    if stuck:
        log.warning("requeued bookings stuck in flight", extra={"count": len(stuck),
                                                                "booking_ids": stuck[:20]})
    return stuck


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run one reconciliation pass (EventBridge schedule)."""
    older_than = timedelta(seconds=env_int(RECONCILE_AFTER_SECONDS, 300))

    async def go() -> list[str]:
        deps = await dependencies()
        return await requeue_stuck(deps.saga.bookings, deps.service.enqueue,
                                   older_than=older_than, now=datetime.now(UTC))

    return {"requeued": run(go())}
