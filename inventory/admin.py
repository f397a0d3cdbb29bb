"""Operator actions: add flights and hotels, change capacity, list holds."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiomysql
import orjson
import pymysql

from inventory.catalog import Catalog, iso_utc
from inventory.db import Cursor, fetch_all, in_transaction
from inventory.errors import AlreadyExists, CapacityBelowCommitted
from inventory.pricing import duration_min, haversine_km
from itinera.api.admin import NewFlight, NewHotel
from itinera.api.errors import InvalidCursor
from itinera.errors import NotFound

DUPLICATE_KEY = 1062


class AdminRepository:
    """Write the catalog and read holds on behalf of an operator."""

    def __init__(self, pool: aiomysql.Pool, catalog: Catalog) -> None:
        self.pool = pool
        self.catalog = catalog

    async def create_flight(self, spec: NewFlight) -> int:
        """Insert a flight and its cabins (capacity all available); return its id."""
        zone = await self.catalog.airport_zone(spec.origin)
        await self.catalog.airport_zone(spec.destination)
        ends = await fetch_all(self.pool, "SELECT iata, lat, lon FROM airports"
                                          " WHERE iata IN (%s, %s)",
                               (spec.origin, spec.destination))
        where = {r["iata"]: r for r in ends}
        a, b = where[spec.origin], where[spec.destination]
        minutes = duration_min(haversine_km(a["lat"], a["lon"], b["lat"], b["lon"]))
        local: datetime = spec.departure_local
        departure = local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)

        async def work(cur: Cursor) -> int:
            await cur.execute("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM flights FOR UPDATE")
            flight_id = int((await cur.fetchone())["id"])
            await cur.execute(
                "INSERT INTO flights (id, flight_no, carrier, origin, destination, departure_utc,"
                " arrival_utc, departure_date_local, duration_min)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (flight_id, spec.flight_no, spec.carrier, spec.origin,
                 spec.destination, departure, departure + timedelta(minutes=minutes),
                 local.date(), minutes))
            await cur.executemany(
                "INSERT INTO flight_cabins (flight_id, cabin, capacity, available, fare_amount,"
                " currency) VALUES (%s, %s, %s, %s, %s, %s)",
                [(flight_id, c.cabin, c.capacity, c.capacity, c.fare.amount, c.fare.currency)
                 for c in spec.cabins])
            return flight_id

        return await in_transaction(self.pool, work)

    async def create_hotel(self, spec: NewHotel) -> int:
        """Insert a hotel, its room types and their nights; return the hotel's id."""

        async def work(cur: Cursor) -> int:
            await cur.execute("SELECT COALESCE(MAX(id), 0) + 1 AS id FROM hotels FOR UPDATE")
            hotel_id = int((await cur.fetchone())["id"])
            await cur.execute("INSERT INTO hotels (id, name, city, country, tz, stars, lat, lon)"
                              " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                              (hotel_id, spec.name, spec.city, spec.country, spec.tz, spec.stars,
                               spec.lat, spec.lon))
            await cur.execute("SELECT COALESCE(MAX(id), 0) AS id FROM room_types FOR UPDATE")
            next_type = int((await cur.fetchone())["id"])
            first, last = spec.nights.first, spec.nights.last
            nights = [first + timedelta(days=d) for d in range((last - first).days)]
            for room in spec.room_types:
                next_type += 1
                await cur.execute("INSERT INTO room_types (id, hotel_id, code, name, max_guests)"
                                  " VALUES (%s, %s, %s, %s, %s)",
                                  (next_type, hotel_id, room.code, room.name, room.max_guests))
                await cur.executemany(
                    "INSERT INTO room_nights (room_type_id, night, capacity, available,"
                    " rate_amount, currency) VALUES (%s, %s, %s, %s, %s, %s)",
                    [(next_type, night, room.capacity, room.capacity, room.rate.amount,
                      room.rate.currency) for night in nights])
            return hotel_id

        try:
            return await in_transaction(self.pool, work)
        except pymysql.err.IntegrityError as exc:
            if exc.args[0] == DUPLICATE_KEY:
                raise AlreadyExists("a room type code appears twice") from exc
            raise

    async def set_cabin_capacity(self, flight_id: int, cabin: str, capacity: int
                                 ) -> dict[str, Any]:
        """Set a cabin's capacity; available absorbs the change, never below held + sold."""

        async def work(cur: Cursor) -> dict[str, Any]:
            await cur.execute("SELECT held, sold FROM flight_cabins WHERE flight_id = %s"
                              " AND cabin = %s FOR UPDATE", (flight_id, cabin))
            row = await cur.fetchone()
            if row is None:
                raise NotFound(f"flight {flight_id} has no {cabin} cabin")
            _check_capacity(capacity, row["held"] + row["sold"])
            await cur.execute("UPDATE flight_cabins SET capacity = %s,"
                              " available = %s - held - sold WHERE flight_id = %s AND cabin = %s",
                              (capacity, capacity, flight_id, cabin))
            await cur.execute("SELECT cabin, capacity, available, held, sold FROM flight_cabins"
                              " WHERE flight_id = %s AND cabin = %s", (flight_id, cabin))
            return {"flight_id": str(flight_id), **(await cur.fetchone())}

        return await in_transaction(self.pool, work)

    async def set_room_capacity(self, hotel_id: int, code: str, first: date, last: date,
                                capacity: int) -> dict[str, Any]:
        """Set the capacity of a room type on nights [first, last), all or none."""

        async def work(cur: Cursor) -> dict[str, Any]:
            await cur.execute("SELECT id FROM room_types WHERE hotel_id = %s AND code = %s",
                              (hotel_id, code))
            found = await cur.fetchone()
            if found is None:
                raise NotFound(f"hotel {hotel_id} has no room type {code}")
            # Nights in primary key order, the lock order holds use.
            await cur.execute("SELECT night, held, sold FROM room_nights WHERE room_type_id = %s"
                              " AND night >= %s AND night < %s ORDER BY night FOR UPDATE",
                              (found["id"], first, last))
            rows = await cur.fetchall()
            if len(rows) != (last - first).days:
                raise NotFound(f"room type {code} is not on sale every night of that range")
            for row in rows:
                _check_capacity(capacity, row["held"] + row["sold"], night=row["night"])
            await cur.execute("UPDATE room_nights SET capacity = %s, available = %s - held - sold"
                              " WHERE room_type_id = %s AND night >= %s AND night < %s",
                              (capacity, capacity, found["id"], first, last))
            await cur.execute("SELECT night, capacity, available, held, sold FROM room_nights"
                              " WHERE room_type_id = %s AND night >= %s AND night < %s"
                              " ORDER BY night", (found["id"], first, last))
            return {"hotel_id": str(hotel_id), "room_type": code,
                    "nights": [{**r, "night": r["night"].isoformat()}
                               for r in await cur.fetchall()]}

        return await in_transaction(self.pool, work)

    async def list_holds(self, status: str | None, limit: int, cursor: str | None
                         ) -> dict[str, Any]:
        """Return holds newest first, optionally of one status, one keyset page at a time."""
        where: list[str] = []
        args: list[Any] = []
        if status is not None:
            where.append("status = %s")
            args.append(status)
        if cursor is not None:
            created, hold_id = _decode(cursor)
            where.append("(created_at < %s OR (created_at = %s AND id < %s))")
            args += [created, created, hold_id]
        filters = " WHERE " + " AND ".join(where) if where else ""
        columns = "id, customer_id, status, booking_id, total_amount, currency, created_at"
        sql = f"SELECT {columns}, expires_at FROM holds{filters} ORDER BY created_at DESC, id DESC LIMIT %s"  # noqa: S608, E501 - constant fragments
        rows = await fetch_all(self.pool, sql, [*args, limit + 1])
        page = rows[:limit]
        items = [{"id": r["id"], "customer_id": r["customer_id"], "status": r["status"],
                  "booking_id": r["booking_id"],
                  "total": {"amount": r["total_amount"], "currency": r["currency"]},
                  "created_at": iso_utc(r["created_at"]), "expires_at": iso_utc(r["expires_at"])}
                 for r in page]
        next_cursor = _encode(page[-1]["created_at"], page[-1]["id"]) if len(rows) > limit else None
        return {"items": items, "next_cursor": next_cursor}


def _check_capacity(capacity: int, committed: int, night: date | None = None) -> None:
    if capacity < committed:
        where = f" on {night.isoformat()}" if night else ""
        raise CapacityBelowCommitted(f"capacity {capacity} is below the {committed} seats or"
                                     f" rooms held and sold{where}", committed=committed)


def _encode(created: datetime, hold_id: str) -> str:
    raw = orjson.dumps([created.isoformat(), hold_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, str]:
    try:
        created, hold_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created), str(hold_id)[:32]
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc
