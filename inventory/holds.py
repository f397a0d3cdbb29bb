"""Holds: all-or-nothing reservation of seats and room nights; pin, release, confirm, expiry."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiomysql

from inventory.db import Cursor, fetch_all, in_transaction
from inventory.errors import DateInPast, FlightDeparted, UnknownFlight, UnknownHotel
from inventory.hold_batch import CabinBatcher
from inventory.hold_rows import hold_view, read_hold
from inventory.pricing import Money, hold_total
from inventory.stock import ITEMS_IN_LOCK_ORDER, StockLine, move
from itinera.api.holds import FlightItem, HotelItem
from itinera.errors import HoldInCheckout, HoldNotActive, ItineraError, NotFound, SoldOut

log = logging.getLogger("inventory.holds")

@dataclass(frozen=True)
class Once:
    """An idempotency key as inventory stores it: digests of (customer, key) and the body."""

    owner_key: str
    request_hash: str


# What a transaction hands back: the hold, or the refusal to raise once its writes committed.
Outcome = tuple[dict[str, Any] | None, ItineraError | None]


@dataclass(frozen=True)
class _Locked:
    customer_id: str
    status: str  # as stored
    booking_id: str | None
    past_expiry: bool


class HoldRepository:
    """Create, read, release, confirm, cancel and expire holds; counts move in the same txn."""

    def __init__(self, pool: aiomysql.Pool, *, ttl_seconds: int) -> None:
        self.pool = pool
        self.ttl_seconds = ttl_seconds
        self.batcher = CabinBatcher(pool, ttl_seconds=ttl_seconds, single=self._one_flight)

    async def create(self, customer_id: str, items: list[FlightItem | HotelItem], *,
                     once: Once | None = None) -> dict[str, Any]:
        """Hold every item or none; raise `SoldOut` when any cabin or night lacks stock.

        With *once*, the hold is recorded under its key, so the same key finds it again.
        Seats on one flight cabin, the hot case of a flash sale, are held in batches.
        """
        if len(items) == 1 and isinstance(items[0], FlightItem):
            return await self.batcher.hold(customer_id, items[0], once)
        return await self._create(customer_id, items, once=once)

    async def _one_flight(self, customer_id: str, item: FlightItem, once: Any) -> dict[str, Any]:
        return await self._create(customer_id, [item], once=once)

    async def _create(self, customer_id: str, items: list[FlightItem | HotelItem], *,
                      once: Once | None = None) -> dict[str, Any]:
        # Everything that needs no lock first, so the hot stock rows stay locked only from
        # their UPDATE through the items' INSERT to the COMMIT: a hot cabin serialises every
        # hold on it, and each round trip inside that window would cost all of them. Prices are
        # read unlocked: a hold is priced as the catalog stood when it was asked for.
        resolved = [await self._resolve(item) for item in items]
        lines = [line for line, _ in resolved]
        prices = [price for _, price in resolved]
        total = hold_total((line.quantity, p) for line, p in zip(lines, prices, strict=True))
        hold_id = uuid.uuid4().hex
        created = datetime.now(UTC).replace(tzinfo=None)
        expires = created + timedelta(seconds=self.ttl_seconds)
        rows = [{"kind": line.kind, "flight_id": line.flight_id, "cabin": line.cabin,
                 "hotel_id": item.hotel_id if isinstance(item, HotelItem) else None,
                 "room_type": item.room_type if isinstance(item, HotelItem) else None,
                 "room_type_id": line.room_type_id, "check_in": line.check_in,
                 "check_out": line.check_out, "quantity": line.quantity,
                 "unit_amount": p.amount, "currency": p.currency}
                for item, line, p in zip(items, lines, prices, strict=True)]

        async def work(cur: Cursor) -> None:
            await cur.execute(
                "INSERT INTO holds (id, customer_id, status, total_amount, currency, created_at,"
                " expires_at, owner_key, request_hash) VALUES (%s, %s, 'active', %s, %s, %s, %s,"
                " %s, %s)",
                (hold_id, customer_id, total.amount, total.currency, created, expires,
                 once.owner_key if once else None, once.request_hash if once else None))
            # One fixed lock order for every transaction, so two holds cannot deadlock.
            for item, line in sorted(zip(items, lines, strict=True),
                                     key=lambda pair: pair[1].lock_key):
                if not await move(cur, line, "available", "held"):
                    raise _sold_out(item)
            # After the stock: an item's foreign key share-locks its cabin row, and taking
            # that before the UPDATE's exclusive lock would deadlock two holds on one cabin.
            await cur.executemany(
                "INSERT INTO hold_items (hold_id, item_no, kind, flight_id, cabin, hotel_id,"
                " room_type_id, check_in, check_out, quantity, unit_amount, currency)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(hold_id, n, r["kind"], r["flight_id"], r["cabin"], r["hotel_id"],
                  r["room_type_id"], r["check_in"], r["check_out"], r["quantity"],
                  r["unit_amount"], r["currency"]) for n, r in enumerate(rows, start=1)])

        await in_transaction(self.pool, work)
        hold = hold_view({"id": hold_id, "customer_id": customer_id, "status": "active",
                          "booking_id": None, "total_amount": total.amount,
                          "currency": total.currency, "created_at": created,
                          "expires_at": expires}, rows)
        log.info("hold created", extra={"hold_id": hold_id, "total": hold["total"]})
        return hold

    async def get(self, hold_id: str, customer_id: str | None = None) -> dict[str, Any]:
        """Return the hold; another customer's hold is reported as not found."""
        async with self.pool.acquire() as conn, conn.cursor(Cursor) as cur:
            hold = await read_hold(cur, hold_id)
        if customer_id is not None and hold["customer_id"] != customer_id:
            raise NotFound(f"hold {hold_id} does not exist")
        return hold

    async def pin(self, hold_id: str, booking_id: str, customer_id: str | None = None, *,
                  grace_seconds: int) -> dict[str, Any]:
        """Record that *booking_id* pays for the active hold; keep it at least *grace_seconds*."""

        async def step(cur: Cursor) -> None:
            # GREATEST: a pin never shortens a hold that already outlives the grace.
            await cur.execute("UPDATE holds SET booking_id = %s, expires_at = GREATEST(expires_at,"
                              " UTC_TIMESTAMP(6) + INTERVAL %s SECOND) WHERE id = %s",
                              (booking_id, grace_seconds, hold_id))

        hold = await self._for_booking(hold_id, booking_id, customer_id, step)
        log.info("hold pinned", extra={"hold_id": hold_id, "booking_id": booking_id})
        return hold

    async def release(self, hold_id: str, customer_id: str | None = None,
                      booking_id: str | None = None) -> dict[str, Any]:
        """Give an active hold's stock back unless a booking other than *booking_id* pays for it.

        The owner sends no *booking_id*, so a pinned hold is refused; checkout's compensation
        sends its own. A released or expired hold is left as it is.
        """

        async def work(cur: Cursor) -> Outcome:
            locked = await _lock(cur, hold_id, customer_id)
            if locked.status in ("confirmed", "cancelled"):
                return None, HoldNotActive(f"hold {hold_id} is {locked.status}")
            if locked.status == "active" and locked.past_expiry:
                await _retire(cur, hold_id, "expired")  # the pin, if any, has lapsed
            elif locked.status == "active":
                if locked.booking_id not in (None, booking_id):
                    return None, HoldInCheckout(f"hold {hold_id} is being paid for by a booking")
                await _retire(cur, hold_id, "released")
            return await read_hold(cur, hold_id), None

        return _refused_or(await in_transaction(self.pool, work))

    async def confirm(self, hold_id: str, booking_id: str,
                      customer_id: str | None = None) -> dict[str, Any]:
        """Turn held stock into sold stock once per booking; repeating it changes nothing."""

        async def step(cur: Cursor) -> None:
            await cur.execute("UPDATE holds SET status = 'confirmed', booking_id = %s"
                              " WHERE id = %s AND status = 'active'", (booking_id, hold_id))
            await _move_all(cur, hold_id, "held", "sold")

        return await self._for_booking(hold_id, booking_id, customer_id, step)

    async def _for_booking(self, hold_id: str, booking_id: str, customer_id: str | None,
                           step: Callable[[Cursor], Awaitable[None]]) -> dict[str, Any]:
        """Run *step* on the hold for *booking_id* if it is active and free or pinned to it."""

        async def work(cur: Cursor) -> Outcome:
            locked = await _lock(cur, hold_id, customer_id)
            if locked.status == "confirmed" and locked.booking_id == booking_id:
                return await read_hold(cur, hold_id), None  # done before: repeating is harmless
            if locked.status != "active":
                return None, HoldNotActive(f"hold {hold_id} is {locked.status}")
            if locked.past_expiry:
                # Expire it now (committed) rather than wait for the sweeper, pinned or not,
                # so the answer is the same whichever of the two gets there first.
                await _retire(cur, hold_id, "expired")
                return None, HoldNotActive(f"hold {hold_id} has expired")
            if locked.booking_id not in (None, booking_id):
                return None, HoldInCheckout(f"hold {hold_id} is being paid for by another booking")
            await step(cur)
            return await read_hold(cur, hold_id), None

        return _refused_or(await in_transaction(self.pool, work))

    async def cancel(self, hold_id: str, booking_id: str) -> dict[str, Any]:
        """Give a confirmed hold's sold stock back once; repeating it changes nothing."""

        async def work(cur: Cursor) -> Outcome:
            # The hold row first, then the stock in lock order: the order of confirm and release.
            locked = await _lock(cur, hold_id, None)
            if locked.status == "cancelled" and locked.booking_id == booking_id:
                return await read_hold(cur, hold_id), None
            refusal = HoldNotActive(f"hold {hold_id} is not confirmed for booking {booking_id}")
            if locked.status != "confirmed" or locked.booking_id != booking_id:
                return None, refusal
            await cur.execute("UPDATE holds SET status = 'cancelled' WHERE id = %s"
                              " AND status = 'confirmed' AND booking_id = %s",
                              (hold_id, booking_id))
            if cur.rowcount != 1:
                return None, refusal
            await _move_all(cur, hold_id, "sold", "available")
            return await read_hold(cur, hold_id), None

        hold = _refused_or(await in_transaction(self.pool, work))
        log.info("hold cancelled", extra={"hold_id": hold_id, "booking_id": booking_id})
        return hold

    async def expire_due(self, *, batch: int = 50) -> int:
        """Expire up to *batch* active holds past their expiry; return how many this call did."""
        rows = await fetch_all(
            self.pool,
            "SELECT id FROM holds WHERE status = 'active' AND expires_at <= UTC_TIMESTAMP(6)"
            " ORDER BY expires_at LIMIT %s", (batch,))
        expired = 0
        for row in rows:

            async def work(cur: Cursor, hold_id: str = row["id"]) -> bool:
                # The conditional update is what makes concurrent sweepers safe: only one wins.
                return await _retire(cur, hold_id, "expired")

            expired += await in_transaction(self.pool, work)
        return expired

    async def _resolve(self, item: FlightItem | HotelItem) -> tuple[StockLine, Money]:
        """Check the item's flight or hotel exists and lies ahead; return its rows and price."""
        if isinstance(item, FlightItem):
            rows = await fetch_all(
                self.pool,
                "SELECT f.departure_utc <= UTC_TIMESTAMP() AS departed, c.fare_amount, c.currency"
                " FROM flights f JOIN flight_cabins c ON c.flight_id = f.id"
                " WHERE f.id = %s AND c.cabin = %s", (item.flight_id, item.cabin))
            if not rows:
                raise UnknownFlight(f"flight {item.flight_id} has no {item.cabin} cabin",
                                    flight_id=str(item.flight_id))
            if rows[0]["departed"]:
                raise FlightDeparted(f"flight {item.flight_id} has departed",
                                     flight_id=str(item.flight_id))
            return (StockLine("flight", item.quantity, flight_id=item.flight_id,
                              cabin=item.cabin),
                    Money(rows[0]["fare_amount"], rows[0]["currency"]))
        rows = await fetch_all(
            self.pool,
            "SELECT rt.id, h.tz FROM room_types rt JOIN hotels h ON h.id = rt.hotel_id"
            " WHERE rt.hotel_id = %s AND rt.code = %s", (item.hotel_id, item.room_type))
        if not rows:
            raise UnknownHotel(f"hotel {item.hotel_id} has no room type {item.room_type}",
                               hotel_id=str(item.hotel_id))
        if item.check_in < datetime.now(ZoneInfo(rows[0]["tz"])).date():
            raise DateInPast(f"{item.check_in.isoformat()} has already passed at the hotel")
        line = StockLine("hotel", item.rooms, room_type_id=rows[0]["id"],
                         check_in=item.check_in, check_out=item.check_out)
        nights = await fetch_all(
            self.pool, "SELECT rate_amount, currency FROM room_nights WHERE room_type_id = %s"
                       " AND night >= %s AND night < %s",
            (line.room_type_id, line.check_in, line.check_out))
        return line, hold_total((1, Money(n["rate_amount"], n["currency"])) for n in nights)


def _sold_out(item: FlightItem | HotelItem) -> SoldOut:
    if isinstance(item, FlightItem):
        return SoldOut(f"flight {item.flight_id} has fewer than {item.quantity}"
                       f" {item.cabin} seats left", flight_id=str(item.flight_id),
                       cabin=item.cabin)
    return SoldOut(f"hotel {item.hotel_id} has fewer than {item.rooms} {item.room_type}"
                   f" rooms left on some night", hotel_id=str(item.hotel_id),
                   room_type=item.room_type)


def _refused_or(outcome: Outcome) -> dict[str, Any]:
    hold, refusal = outcome
    if refusal is not None:
        raise refusal
    assert hold is not None
    return hold


async def _lock(cur: Cursor, hold_id: str, customer_id: str | None) -> _Locked:
    await cur.execute("SELECT customer_id, status, booking_id,"
                      " expires_at <= UTC_TIMESTAMP(6) AS past_expiry"
                      " FROM holds WHERE id = %s FOR UPDATE", (hold_id,))
    row = await cur.fetchone()
    if row is None or (customer_id is not None and row["customer_id"] != customer_id):
        raise NotFound(f"hold {hold_id} does not exist")
    return _Locked(row["customer_id"], row["status"], row["booking_id"],
                   bool(row["past_expiry"]))


async def _retire(cur: Cursor, hold_id: str, status: str) -> bool:
    """Move an active hold to *status* and give its stock back; False if it was not active."""
    extra = " AND expires_at <= UTC_TIMESTAMP(6)" if status == "expired" else ""
    await cur.execute(f"UPDATE holds SET status = %s WHERE id = %s AND status = 'active'{extra}",  # noqa: S608 - constant fragment
                      (status, hold_id))
    if cur.rowcount != 1:
        return False
    await _move_all(cur, hold_id, "held", "available")
    log.info("hold retired", extra={"hold_id": hold_id, "status": status})
    return True


async def _move_all(cur: Cursor, hold_id: str, source: str, target: str) -> None:
    await cur.execute(ITEMS_IN_LOCK_ORDER, (hold_id,))
    for row in await cur.fetchall():
        if not await move(cur, StockLine.from_row(row), source, target):
            # Stock missing means the counts were broken elsewhere; roll back, do not guess.
            raise RuntimeError(f"inventory counts of hold {hold_id} are inconsistent")
