"""Seat holds: all-or-nothing reservation, release, confirmation and expiry, in MySQL."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import aiomysql

from inventory.catalog import iso_utc
from inventory.db import Cursor, fetch_all, in_transaction
from inventory.errors import FlightDeparted, UnknownFlight
from inventory.params import FlightItem
from inventory.pricing import Money, hold_total
from itinera.errors import HoldNotActive, NotFound, SoldOut

log = logging.getLogger("inventory.holds")

# A hold past its expiry reads as expired at once, before the sweeper gets to it.
_STATUS_SQL = ("CASE WHEN status = 'active' AND expires_at <= UTC_TIMESTAMP(6)"
               " THEN 'expired' ELSE status END")


@dataclass(frozen=True)
class _Locked:
    customer_id: str
    status: str  # as stored
    booking_id: str | None
    past_expiry: bool


class HoldRepository:
    """Create, read, release, confirm and expire holds; cabin counts move in the same txn."""

    def __init__(self, pool: aiomysql.Pool, *, ttl_seconds: int) -> None:
        self.pool = pool
        self.ttl_seconds = ttl_seconds

    async def create(self, customer_id: str, items: list[FlightItem]) -> dict[str, Any]:
        """Hold every item or none; raise `SoldOut` when any cabin lacks seats."""
        await self._check_flights(items)
        hold_id = uuid.uuid4().hex

        async def work(cur: Cursor) -> dict[str, Any]:
            # One fixed lock order for every transaction, so two holds cannot deadlock.
            for item in sorted(items, key=lambda i: i.lock_key):
                await cur.execute(
                    "UPDATE flight_cabins SET available = available - %s, held = held + %s"
                    " WHERE flight_id = %s AND cabin = %s AND available >= %s",
                    (item.quantity, item.quantity, item.flight_id, item.cabin, item.quantity))
                if cur.rowcount != 1:
                    raise SoldOut(f"flight {item.flight_id} has fewer than {item.quantity}"
                                  f" {item.cabin} seats left", flight_id=str(item.flight_id),
                                  cabin=item.cabin)
            prices = []
            for item in items:
                # Read after our UPDATE locked the row, so the fare is the current one.
                await cur.execute("SELECT fare_amount, currency FROM flight_cabins"
                                  " WHERE flight_id = %s AND cabin = %s",
                                  (item.flight_id, item.cabin))
                row = await cur.fetchone()
                prices.append(Money(row["fare_amount"], row["currency"]))
            total = hold_total((i.quantity, p) for i, p in zip(items, prices, strict=True))
            await cur.execute(
                "INSERT INTO holds (id, customer_id, status, total_amount, currency, created_at,"
                " expires_at) VALUES (%s, %s, 'active', %s, %s, UTC_TIMESTAMP(6),"
                " UTC_TIMESTAMP(6) + INTERVAL %s SECOND)",
                (hold_id, customer_id, total.amount, total.currency, self.ttl_seconds))
            await cur.executemany(
                "INSERT INTO hold_items (hold_id, item_no, kind, flight_id, cabin, quantity,"
                " unit_amount, currency) VALUES (%s, %s, 'flight', %s, %s, %s, %s, %s)",
                [(hold_id, n, i.flight_id, i.cabin, i.quantity, p.amount, p.currency)
                 for n, (i, p) in enumerate(zip(items, prices, strict=True), start=1)])
            return await _read(cur, hold_id)

        hold = await in_transaction(self.pool, work)
        log.info("hold created", extra={"hold_id": hold_id, "total": hold["total"]})
        return hold

    async def get(self, hold_id: str, customer_id: str | None = None) -> dict[str, Any]:
        """Return the hold; another customer's hold is reported as not found."""
        async with self.pool.acquire() as conn, conn.cursor(Cursor) as cur:
            hold = await _read(cur, hold_id)
        if customer_id is not None and hold["customer_id"] != customer_id:
            raise NotFound(f"hold {hold_id} does not exist")
        return hold

    async def release(self, hold_id: str, customer_id: str | None = None) -> dict[str, Any]:
        """Give an active hold's seats back; a released or expired hold is left as it is."""

        async def work(cur: Cursor) -> dict[str, Any]:
            locked = await _lock(cur, hold_id, customer_id)
            if locked.status == "confirmed":
                raise HoldNotActive(f"hold {hold_id} is confirmed")
            if locked.status == "active":
                await _retire(cur, hold_id, "expired" if locked.past_expiry else "released")
            return await _read(cur, hold_id)

        return await in_transaction(self.pool, work)

    async def confirm(self, hold_id: str, booking_id: str,
                      customer_id: str | None = None) -> dict[str, Any]:
        """Turn held seats into sold ones once per booking; repeating it changes nothing."""

        async def work(cur: Cursor) -> tuple[dict[str, Any] | None, str | None]:
            locked = await _lock(cur, hold_id, customer_id)
            if locked.status == "confirmed":
                if locked.booking_id == booking_id:
                    return await _read(cur, hold_id), None
                return None, f"hold {hold_id} is confirmed for another booking"
            if locked.status != "active":
                return None, f"hold {hold_id} is {locked.status}"
            if locked.past_expiry:
                # Expire it now (committed) rather than wait for the sweeper.
                await _retire(cur, hold_id, "expired")
                return None, f"hold {hold_id} has expired"
            await cur.execute("UPDATE holds SET status = 'confirmed', booking_id = %s"
                              " WHERE id = %s AND status = 'active'", (booking_id, hold_id))
            for item in await _items(cur, hold_id):
                await cur.execute(
                    "UPDATE flight_cabins SET held = held - %s, sold = sold + %s"
                    " WHERE flight_id = %s AND cabin = %s AND held >= %s",
                    (item["quantity"], item["quantity"], item["flight_id"], item["cabin"],
                     item["quantity"]))
                _require_one(cur, hold_id)
            return await _read(cur, hold_id), None

        hold, refusal = await in_transaction(self.pool, work)
        if refusal is not None:
            raise HoldNotActive(refusal)
        assert hold is not None
        return hold

    async def cancel(self, hold_id: str, booking_id: str) -> dict[str, Any]:
        """Give a confirmed hold's sold seats back once; repeating it changes nothing."""

        async def work(cur: Cursor) -> tuple[dict[str, Any] | None, str | None]:
            # The hold row first, then the cabins in order: the same order as confirm and release.
            locked = await _lock(cur, hold_id, None)
            if locked.status == "cancelled" and locked.booking_id == booking_id:
                return await _read(cur, hold_id), None
            if locked.status != "confirmed" or locked.booking_id != booking_id:
                return None, f"hold {hold_id} is not confirmed for booking {booking_id}"
            await cur.execute("UPDATE holds SET status = 'cancelled' WHERE id = %s"
                              " AND status = 'confirmed' AND booking_id = %s",
                              (hold_id, booking_id))
            if cur.rowcount != 1:
                return None, f"hold {hold_id} is not confirmed for booking {booking_id}"
            for item in await _items(cur, hold_id):
                await cur.execute(
                    "UPDATE flight_cabins SET sold = sold - %s, available = available + %s"
                    " WHERE flight_id = %s AND cabin = %s AND sold >= %s",
                    (item["quantity"], item["quantity"], item["flight_id"], item["cabin"],
                     item["quantity"]))
                _require_one(cur, hold_id)
            return await _read(cur, hold_id), None

        hold, refusal = await in_transaction(self.pool, work)
        if refusal is not None:
            raise HoldNotActive(refusal)
        assert hold is not None
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

    async def _check_flights(self, items: list[FlightItem]) -> None:
        for item in items:
            rows = await fetch_all(
                self.pool,
                "SELECT f.departure_utc <= UTC_TIMESTAMP() AS departed FROM flights f"
                " JOIN flight_cabins c ON c.flight_id = f.id WHERE f.id = %s AND c.cabin = %s",
                (item.flight_id, item.cabin))
            if not rows:
                raise UnknownFlight(f"flight {item.flight_id} has no {item.cabin} cabin",
                                    flight_id=str(item.flight_id))
            if rows[0]["departed"]:
                raise FlightDeparted(f"flight {item.flight_id} has departed",
                                     flight_id=str(item.flight_id))


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
    """Move an active hold to *status* and give its seats back; False if it was not active."""
    extra = " AND expires_at <= UTC_TIMESTAMP(6)" if status == "expired" else ""
    await cur.execute(f"UPDATE holds SET status = %s WHERE id = %s AND status = 'active'{extra}",  # noqa: S608 - constant fragment
                      (status, hold_id))
    if cur.rowcount != 1:
        return False
    for item in await _items(cur, hold_id):
        await cur.execute(
            "UPDATE flight_cabins SET available = available + %s, held = held - %s"
            " WHERE flight_id = %s AND cabin = %s AND held >= %s",
            (item["quantity"], item["quantity"], item["flight_id"], item["cabin"],
             item["quantity"]))
        _require_one(cur, hold_id)
    log.info("hold retired", extra={"hold_id": hold_id, "status": status})
    return True


def _require_one(cur: Cursor, hold_id: str) -> None:
    if cur.rowcount != 1:
        # Held seats missing means the counts were broken elsewhere; roll back, do not guess.
        raise RuntimeError(f"cabin counts of hold {hold_id} are inconsistent")


async def _items(cur: Cursor, hold_id: str) -> list[dict[str, Any]]:
    await cur.execute("SELECT kind, flight_id, cabin, quantity, unit_amount, currency"
                      " FROM hold_items WHERE hold_id = %s ORDER BY flight_id, cabin",
                      (hold_id,))
    return list(await cur.fetchall())


async def _read(cur: Cursor, hold_id: str) -> dict[str, Any]:
    await cur.execute(f"SELECT id, customer_id, {_STATUS_SQL} AS status, booking_id,"  # noqa: S608 - constant fragment
                      " total_amount, currency, created_at, expires_at FROM holds WHERE id = %s",
                      (hold_id,))
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"hold {hold_id} does not exist")
    await cur.execute("SELECT kind, flight_id, cabin, quantity, unit_amount, currency"
                      " FROM hold_items WHERE hold_id = %s ORDER BY item_no", (hold_id,))
    items = [{"kind": i["kind"], "flight_id": str(i["flight_id"]), "cabin": i["cabin"],
              "quantity": i["quantity"],
              "unit_price": {"amount": i["unit_amount"], "currency": i["currency"]}}
             for i in await cur.fetchall()]
    return {"id": row["id"], "customer_id": row["customer_id"], "status": row["status"],
            "items": items, "total": {"amount": row["total_amount"], "currency": row["currency"]},
            "expires_at": iso_utc(row["expires_at"]), "created_at": iso_utc(row["created_at"]),
            "booking_id": row["booking_id"]}
