"""Read side of the catalog: airports, flight search and flight details."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import aiomysql

from inventory.db import fetch_all
from inventory.errors import DateInPast
from inventory.paging import decode_cursor, encode_cursor
from itinera.api.errors import UnknownAirport
from itinera.api.search import FlightSearch
from itinera.errors import NotFound


def iso_utc(when: datetime) -> str:
    """Return a naive UTC datetime as ISO 8601 with a Z."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(when: datetime, tz: str) -> str:
    """Return a naive UTC datetime as local ISO 8601 time with its offset in zone *tz*."""
    return when.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).isoformat()


_FLIGHT_COLUMNS = ("f.id, f.flight_no, f.carrier, f.origin, f.destination, f.departure_utc,"
                   " f.arrival_utc, f.duration_min, o.tz AS origin_tz, d.tz AS destination_tz")
_FLIGHT_JOINS = ("JOIN airports o ON o.iata = f.origin"
                 " JOIN airports d ON d.iata = f.destination")


# Every sort ends with f.id, so equal keys still page in one stable order.
_SORT_COLUMNS = {"departure": "f.departure_utc", "price": "c.fare_amount",
                 "duration": "f.duration_min"}
_SORT_FIELDS = {"departure": "departure_utc", "price": "fare_amount", "duration": "duration_min"}


def flight_search_key(query: FlightSearch) -> str:
    """Return the key a search's result is cached under (without the namespace)."""
    def hhmm(when: time | None) -> str:
        return when.strftime("%H%M") if when else ""

    window = (f"{hhmm(query.depart_after)}-{hhmm(query.depart_before)}"
              if query.depart_after or query.depart_before else "-")
    return (f"search:v2:{query.origin}:{query.destination}:{query.date.isoformat()}:"
            f"{query.cabin}:{query.passengers}:{query.sort}:{query.max_price or '-'}:{window}:"
            f"{query.limit}:{query.cursor or '-'}")


def _flight(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "flight_no": row["flight_no"], "carrier": row["carrier"],
        "origin": row["origin"], "destination": row["destination"],
        "departure_utc": iso_utc(row["departure_utc"]),
        "arrival_utc": iso_utc(row["arrival_utc"]),
        "departure_local": iso_local(row["departure_utc"], row["origin_tz"]),
        "arrival_local": iso_local(row["arrival_utc"], row["destination_tz"]),
        "duration_min": row["duration_min"],
    }


def _fare(row: dict[str, Any]) -> dict[str, Any]:
    return {"amount": row["fare_amount"], "currency": row["currency"]}


class Catalog:
    """Search and read flights in MySQL."""

    def __init__(self, pool: aiomysql.Pool) -> None:
        self.pool = pool
        self._zones: dict[str, str] = {}
        self._loading = asyncio.Lock()

    async def airport_zone(self, iata: str) -> str:
        """Return the time zone of airport *iata* or raise `UnknownAirport`."""
        if not self._zones:
            # Airports are reference data: read them once, not on every (cached) search.
            async with self._loading:
                if not self._zones:
                    rows = await fetch_all(self.pool, "SELECT iata, tz FROM airports")
                    self._zones = {r["iata"]: r["tz"] for r in rows}
        zone = self._zones.get(iata)
        if zone is None:
            raise UnknownAirport(f"{iata} is not a known airport", airport=iata)
        return zone

    async def check_search(self, query: FlightSearch) -> None:
        """Raise unless both airports exist and the date is not past at the origin."""
        zone = await self.airport_zone(query.origin)
        await self.airport_zone(query.destination)
        if query.date < datetime.now(ZoneInfo(zone)).date():
            raise DateInPast(f"{query.date.isoformat()} has already passed in {query.origin}")

    async def search(self, query: FlightSearch) -> dict[str, Any]:
        """Return one page of flights with enough seats, in the query's order, ties by id."""
        column = _SORT_COLUMNS[query.sort]
        where, args = [], [query.cabin, query.origin, query.destination, query.date,
                           query.passengers]
        if query.max_price is not None:
            where.append(" AND c.fare_amount <= %s")
            args.append(query.max_price)
        zone = ZoneInfo(await self.airport_zone(query.origin))
        # The window is local time at the origin; as UTC bounds it stays a range on the index.
        for bound, op in ((query.depart_after, ">="), (query.depart_before, "<")):
            if bound is not None:
                where.append(f" AND f.departure_utc {op} %s")
                args.append(datetime.combine(query.date, bound, zone).astimezone(UTC)
                            .replace(tzinfo=None))
        if query.cursor:
            key, last_id = decode_cursor(query.cursor, query.sort)
            where.append(f" AND ({column} > %s OR ({column} = %s AND f.id > %s))")
            args += [key, key, last_id]
        rows = await fetch_all(
            self.pool,
            f"SELECT {_FLIGHT_COLUMNS}, c.cabin, c.available, c.fare_amount, c.currency"  # noqa: S608 - constant fragments
            f" FROM flights f JOIN flight_cabins c ON c.flight_id = f.id AND c.cabin = %s"
            f" {_FLIGHT_JOINS}"
            " WHERE f.origin = %s AND f.destination = %s AND f.departure_date_local = %s"
            " AND c.available >= %s AND f.departure_utc > UTC_TIMESTAMP()"
            f"{''.join(where)} ORDER BY {column}, f.id LIMIT %s",
            [*args, query.limit + 1])
        page = rows[:query.limit]
        items = [{**_flight(r), "cabin": r["cabin"], "available": r["available"],
                  "fare": _fare(r)} for r in page]
        next_cursor = None
        if len(rows) > query.limit:
            last = page[-1]
            next_cursor = encode_cursor(last[_SORT_FIELDS[query.sort]], last["id"], query.sort)
        return {"items": items, "next_cursor": next_cursor}

    async def flight(self, flight_id: int) -> dict[str, Any]:
        """Return flight *flight_id* with every cabin's live availability."""
        rows = await fetch_all(
            self.pool,
            f"SELECT {_FLIGHT_COLUMNS}, c.cabin, c.available, c.fare_amount, c.currency"  # noqa: S608 - constant fragments
            f" FROM flights f JOIN flight_cabins c ON c.flight_id = f.id {_FLIGHT_JOINS}"
            " WHERE f.id = %s ORDER BY c.cabin",
            [flight_id])
        if not rows:
            raise NotFound(f"flight {flight_id} does not exist")
        cabins = [{"cabin": r["cabin"], "available": r["available"], "fare": _fare(r)}
                  for r in rows]
        return {**_flight(rows[0]), "cabins": cabins}
