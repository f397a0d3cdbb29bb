"""Group commit for seats on one flight cabin: concurrent holds share one row lock and COMMIT.

Every hold on a cabin updates the cabin's one row, so InnoDB runs them one after another; a
hold that took its own transaction would keep the row locked for several round trips, each
stretched by everything else the event loop is doing. Here the holds that arrive while a
transaction runs wait for the next one, which reads the seats left under the lock, grants
them in arrival order, and writes every granted hold at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomysql

from inventory.db import Cursor, fetch_all, in_transaction
from inventory.errors import FlightDeparted, UnknownFlight
from inventory.hold_rows import hold_view
from itinera.api.holds import FlightItem
from itinera.errors import ItineraError, SoldOut

log = logging.getLogger("inventory.hold_batch")
MAX_BATCH = 64
# Batches in flight per cabin and process. More than one was measured slower: the batches
# then queue on the row lock instead of growing (docs/performance.md).
WORKERS = 1
Single = Callable[[str, FlightItem, Any], Awaitable[dict[str, Any]]]


@dataclass(eq=False)
class Ask:
    """One traveller's request for seats, waiting for the batch that answers it."""

    customer_id: str
    item: FlightItem
    once: Any  # inventory.holds.Once (imported there; this module must not import holds)
    answer: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class CabinBatcher:
    """Queue seat holds per cabin and commit each queue's holds together."""

    def __init__(self, pool: aiomysql.Pool, *, ttl_seconds: int, single: Single) -> None:
        self.pool = pool
        self.ttl_seconds = ttl_seconds
        # Used when a batch fails as a whole (a repeated idempotency key, say): the holds
        # are then made one by one, so one request's trouble is nobody else's.
        self.single = single
        self._queues: dict[tuple[int, str], list[Ask]] = {}
        self._workers: dict[tuple[int, str], int] = {}
        self._departures: dict[int, datetime] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = self.holds = 0

    async def hold(self, customer_id: str, item: FlightItem, once: Any) -> dict[str, Any]:
        """Return the hold for *item*, made in the next batch on its cabin."""
        await self._check_departure(item)
        key = (item.flight_id, item.cabin)
        ask = Ask(customer_id, item, once)
        self._queues.setdefault(key, []).append(ask)
        if self._workers.get(key, 0) < WORKERS:
            self._workers[key] = self._workers.get(key, 0) + 1
            task = asyncio.create_task(self._drain(key))
            self._tasks.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(ask.answer)

    async def _check_departure(self, item: FlightItem) -> None:
        # A departure time never changes, so it is read once per flight, without a lock.
        departure = self._departures.get(item.flight_id)
        if departure is None:
            rows = await fetch_all(self.pool, "SELECT departure_utc FROM flights WHERE id = %s",
                                   (item.flight_id,))
            if not rows:
                raise UnknownFlight(f"flight {item.flight_id} has no {item.cabin} cabin",
                                    flight_id=str(item.flight_id))
            departure = self._departures[item.flight_id] = rows[0]["departure_utc"]
        if departure <= datetime.now(UTC).replace(tzinfo=None):
            raise FlightDeparted(f"flight {item.flight_id} has departed",
                                 flight_id=str(item.flight_id))

    async def _drain(self, key: tuple[int, str]) -> None:
        try:
            while self._queues.get(key):
                batch = self._queues[key][:MAX_BATCH]
                del self._queues[key][:MAX_BATCH]
                await self._settle(key, batch)
        finally:
            self._workers[key] -= 1
            if not self._workers[key]:
                del self._workers[key]
                if not self._queues.get(key):
                    self._queues.pop(key, None)

    async def _settle(self, key: tuple[int, str], batch: list[Ask]) -> None:
        try:
            answers = await self._commit(key, batch)
        except Exception:
            log.warning("hold batch failed; making its holds one by one", exc_info=True,
                        extra={"flight_id": key[0], "cabin": key[1], "holds": len(batch)})
            await asyncio.gather(*(self._one(ask) for ask in batch))
            return
        self.batches += 1
        for ask, answer in zip(batch, answers, strict=True):
            if isinstance(answer, ItineraError):
                _fail(ask, answer)
            else:
                self.holds += 1
                ask.answer.set_result(answer)

    async def _one(self, ask: Ask) -> None:
        try:
            ask.answer.set_result(await self.single(ask.customer_id, ask.item, ask.once))
        except Exception as exc:
            _fail(ask, exc)

    async def _commit(self, key: tuple[int, str], batch: list[Ask]
                      ) -> list[dict[str, Any] | ItineraError]:
        flight_id, cabin = key
        created = datetime.now(UTC).replace(tzinfo=None)
        expires = created + timedelta(seconds=self.ttl_seconds)

        async def work(cur: Cursor) -> list[dict[str, Any] | ItineraError]:
            await cur.execute("SELECT available, fare_amount, currency FROM flight_cabins"
                              " WHERE flight_id = %s AND cabin = %s FOR UPDATE", key)
            row = await cur.fetchone()
            if row is None:
                return [UnknownFlight(f"flight {flight_id} has no {cabin} cabin",
                                      flight_id=str(flight_id)) for _ in batch]
            left = row["available"]
            answers: list[ItineraError | None] = []
            granted: list[tuple[str, Ask]] = []
            for ask in batch:  # first come, first served
                if ask.item.quantity <= left:
                    left -= ask.item.quantity
                    granted.append((uuid.uuid4().hex, ask))
                    answers.append(None)
                else:
                    answers.append(SoldOut(
                        f"flight {flight_id} has fewer than {ask.item.quantity} {cabin} seats"
                        f" left", flight_id=str(flight_id), cabin=cabin))
            if granted:
                seats = row["available"] - left
                await cur.execute("UPDATE flight_cabins SET available = available - %s,"
                                  " held = held + %s WHERE flight_id = %s AND cabin = %s"
                                  " AND available >= %s", (seats, seats, flight_id, cabin, seats))
                if cur.rowcount != 1:
                    raise RuntimeError(f"cabin {key} changed under its lock")
                await _insert(cur, granted, row, created, expires)
            views = iter(_view(hold_id, ask, row, created, expires) for hold_id, ask in granted)
            return [next(views) if a is None else a for a in answers]

        return await in_transaction(self.pool, work)


def _fail(ask: Ask, error: BaseException) -> None:
    ask.answer.set_exception(error)
    ask.answer.exception()  # retrieved: a request that went away leaves no warning behind


async def _insert(cur: Cursor, granted: list[tuple[str, Ask]], fare: dict[str, Any],
                  created: datetime, expires: datetime) -> None:
    await cur.executemany(
        "INSERT INTO holds (id, customer_id, status, total_amount, currency, created_at,"
        " expires_at, owner_key, request_hash) VALUES (%s, %s, 'active', %s, %s, %s, %s, %s, %s)",
        [(hold_id, ask.customer_id, ask.item.quantity * fare["fare_amount"], fare["currency"],
          created, expires, ask.once.owner_key if ask.once else None,
          ask.once.request_hash if ask.once else None) for hold_id, ask in granted])
    await cur.executemany(
        "INSERT INTO hold_items (hold_id, item_no, kind, flight_id, cabin, quantity,"
        " unit_amount, currency) VALUES (%s, 1, 'flight', %s, %s, %s, %s, %s)",
        [(hold_id, ask.item.flight_id, ask.item.cabin, ask.item.quantity, fare["fare_amount"],
          fare["currency"]) for hold_id, ask in granted])


def _view(hold_id: str, ask: Ask, fare: dict[str, Any], created: datetime,
          expires: datetime) -> dict[str, Any]:
    return hold_view(
        {"id": hold_id, "customer_id": ask.customer_id, "status": "active", "booking_id": None,
         "total_amount": ask.item.quantity * fare["fare_amount"], "currency": fare["currency"],
         "created_at": created, "expires_at": expires},
        [{"kind": "flight", "flight_id": ask.item.flight_id, "cabin": ask.item.cabin,
          "quantity": ask.item.quantity, "unit_amount": fare["fare_amount"],
          "currency": fare["currency"]}])
