"""Group commit for seats on one flight cabin: concurrent holds share one row lock and COMMIT.

Every hold on a cabin updates the cabin's one row, so InnoDB runs them one after another; a
hold that took its own transaction would keep the row locked for several round trips, each
stretched by everything else the event loop is doing. Here the holds that arrive while a
transaction runs wait for the next one, which takes the seats for all of them in one
conditional UPDATE (or, near sold out, grants them in arrival order under the lock) and
writes every granted hold at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
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
        ids = [uuid.uuid4().hex for _ in batch]

        async def work(cur: Cursor) -> list[dict[str, Any] | ItineraError]:
            # The fare, read without a lock: a hold is priced as the catalog stood.
            await cur.execute("SELECT fare_amount, currency FROM flight_cabins"
                              " WHERE flight_id = %s AND cabin = %s", key)
            fare = await cur.fetchone()
            if fare is None:
                return [UnknownFlight(f"flight {flight_id} has no {cabin} cabin",
                                      flight_id=str(flight_id)) for _ in batch]
            # Every hold's row first, while nothing is locked; the cabin's row is then locked
            # only from its UPDATE through the items' INSERT to the COMMIT.
            await _insert_holds(cur, zip(ids, batch, strict=True), fare, created, expires)
            granted = await _take_seats(cur, key, batch)
            refused = [hold_id for hold_id, ask in zip(ids, batch, strict=True)
                       if ask not in granted]
            if refused:
                marks = ", ".join(["%s"] * len(refused))
                await cur.execute(f"DELETE FROM holds WHERE id IN ({marks})", refused)  # noqa: S608 - placeholders only
            won = [(hold_id, ask) for hold_id, ask in zip(ids, batch, strict=True)
                   if ask in granted]
            if won:
                await _insert_items(cur, won, fare)
            return [_view(hold_id, ask, fare, created, expires) if ask in granted else
                    SoldOut(f"flight {flight_id} has fewer than {ask.item.quantity} {cabin}"
                            f" seats left", flight_id=str(flight_id), cabin=cabin)
                    for hold_id, ask in zip(ids, batch, strict=True)]

        return await in_transaction(self.pool, work)


async def _take_seats(cur: Cursor, key: tuple[int, str], batch: list[Ask]) -> set[Ask]:
    """Move seats from available to held for the asks that fit, first come first served."""
    wanted = sum(ask.item.quantity for ask in batch)
    # Usually every ask fits: one conditional UPDATE decides, without reading first.
    if await _hold_seats(cur, key, wanted):
        return set(batch)
    await cur.execute("SELECT available FROM flight_cabins WHERE flight_id = %s AND cabin = %s"
                      " FOR UPDATE", key)
    row = await cur.fetchone()
    left, granted = (row["available"] if row else 0), set()
    for ask in batch:
        if ask.item.quantity <= left:
            left -= ask.item.quantity
            granted.add(ask)
    seats = sum(ask.item.quantity for ask in granted)
    if seats and not await _hold_seats(cur, key, seats):
        raise RuntimeError(f"cabin {key} changed under its lock")
    return granted


async def _hold_seats(cur: Cursor, key: tuple[int, str], seats: int) -> bool:
    await cur.execute("UPDATE flight_cabins SET available = available - %s, held = held + %s"
                      " WHERE flight_id = %s AND cabin = %s AND available >= %s",
                      (seats, seats, *key, seats))
    return int(cur.rowcount) == 1


def _fail(ask: Ask, error: BaseException) -> None:
    ask.answer.set_exception(error)
    ask.answer.exception()  # retrieved: a request that went away leaves no warning behind


async def _insert_holds(cur: Cursor, asks: Iterable[tuple[str, Ask]], fare: dict[str, Any],
                        created: datetime, expires: datetime) -> None:
    await cur.executemany(
        "INSERT INTO holds (id, customer_id, status, total_amount, currency, created_at,"
        " expires_at, owner_key, request_hash) VALUES (%s, %s, 'active', %s, %s, %s, %s, %s, %s)",
        [(hold_id, ask.customer_id, ask.item.quantity * fare["fare_amount"], fare["currency"],
          created, expires, ask.once.owner_key if ask.once else None,
          ask.once.request_hash if ask.once else None) for hold_id, ask in asks])


async def _insert_items(cur: Cursor, won: list[tuple[str, Ask]], fare: dict[str, Any]) -> None:
    # After the cabin's UPDATE: an item's foreign key share-locks the cabin row, and taking
    # that before the exclusive lock would deadlock two batches on one cabin.
    await cur.executemany(
        "INSERT INTO hold_items (hold_id, item_no, kind, flight_id, cabin, quantity,"
        " unit_amount, currency) VALUES (%s, 1, 'flight', %s, %s, %s, %s, %s)",
        [(hold_id, ask.item.flight_id, ask.item.cabin, ask.item.quantity, fare["fare_amount"],
          fare["currency"]) for hold_id, ask in won])


def _view(hold_id: str, ask: Ask, fare: dict[str, Any], created: datetime,
          expires: datetime) -> dict[str, Any]:
    return hold_view(
        {"id": hold_id, "customer_id": ask.customer_id, "status": "active", "booking_id": None,
         "total_amount": ask.item.quantity * fare["fare_amount"], "currency": fare["currency"],
         "created_at": created, "expires_at": expires},
        [{"kind": "flight", "flight_id": ask.item.flight_id, "cabin": ask.item.cabin,
          "quantity": ask.item.quantity, "unit_amount": fare["fare_amount"],
          "currency": fare["currency"]}])
