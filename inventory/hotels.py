"""Read side of hotels: search by city and stay, and one hotel's live availability."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiomysql

from inventory.db import fetch_all
from inventory.errors import DateInPast
from inventory.paging import decode_cursor, encode_cursor
from itinera.api.errors import UnknownCity
from itinera.api.search import HotelSearch, HotelStay
from itinera.errors import NotFound

# A room type qualifies when the stay has a row for every night and each has enough rooms.
# rooms = guests over the type's occupancy, rounded up; the price is rooms x the summed rates.
_OPTIONS_SQL = (
    "SELECT rt.hotel_id, rt.code, rt.name, rt.max_guests,"
    " CEIL(%s / rt.max_guests) AS rooms, SUM(n.rate_amount) AS stay_amount,"
    " MIN(n.currency) AS currency, MIN(n.available) AS available, COUNT(*) AS nights"
    " FROM room_types rt"
    " JOIN room_nights n ON n.room_type_id = rt.id AND n.night >= %s AND n.night < %s"
    " WHERE {where}"
    " GROUP BY rt.id HAVING nights = %s AND available >= rooms")


def hotel_search_key(query: HotelSearch) -> str:
    """Return the key a hotel search's result is cached under (without the namespace)."""
    return (f"hotels:v1:{query.city.casefold()}:{query.check_in.isoformat()}:"
            f"{query.check_out.isoformat()}:{query.guests}:{query.sort}:{query.limit}:"
            f"{query.cursor or '-'}")


def _hotel(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "name": row["name"], "city": row["city"],
            "country": row["country"], "stars": row["stars"],
            "location": {"lat": row["lat"], "lon": row["lon"]}}


def _option(row: dict[str, Any]) -> dict[str, Any]:
    rooms = int(row["rooms"])
    return {"code": row["code"], "name": row["name"], "max_guests": row["max_guests"],
            "rooms": rooms, "available": int(row["available"]),
            "price": {"amount": rooms * int(row["stay_amount"]), "currency": row["currency"]}}


class HotelCatalog:
    """Search and read hotels in MySQL."""

    def __init__(self, pool: aiomysql.Pool) -> None:
        self.pool = pool
        # Known cities and their time zones; a city's zone never changes, so cached searches
        # skip the database. Unknown names are asked again, so new hotels show up at once.
        self._city_zones: dict[str, str] = {}

    async def check_search(self, query: HotelSearch) -> None:
        """Raise unless the city has hotels and the stay does not start in the past there."""
        zone = self._city_zones.get(query.city)
        if zone is None:
            rows = await fetch_all(self.pool,
                                   "SELECT tz FROM hotels WHERE city = %s LIMIT 1", (query.city,))
            if not rows:
                raise UnknownCity(f"no hotels are known in {query.city[:40]}",
                                  city=query.city[:40])
            zone = self._city_zones[query.city] = rows[0]["tz"]
        _check_not_past(query.check_in, zone)

    async def search(self, query: HotelSearch) -> dict[str, Any]:
        """Return one page of hotels with a room type free on every night, cheapest first."""
        options = await fetch_all(
            self.pool,
            _OPTIONS_SQL.format(where="rt.hotel_id IN (SELECT id FROM hotels WHERE city = %s)"),
            (query.guests, query.check_in, query.check_out, query.city, query.nights))
        by_hotel: dict[int, list[dict[str, Any]]] = {}
        for row in options:
            by_hotel.setdefault(row["hotel_id"], []).append(_option(row))
        ranked = sorted(((min(o["price"]["amount"] for o in opts), hotel_id)
                         for hotel_id, opts in by_hotel.items()))
        if query.cursor:
            after = decode_cursor(query.cursor, query.sort)
            ranked = [r for r in ranked if r > after]
        page = ranked[:query.limit]
        hotels = {}
        if page:
            marks = ", ".join(["%s"] * len(page))
            rows = await fetch_all(self.pool, "SELECT id, name, city, country, stars, lat, lon"  # noqa: S608 - placeholders only
                                              f" FROM hotels WHERE id IN ({marks})",
                                   [hotel_id for _, hotel_id in page])
            hotels = {r["id"]: r for r in rows}
        items = []
        for price, hotel_id in page:
            room_types = sorted(by_hotel[hotel_id], key=lambda o: (o["price"]["amount"],
                                                                   o["code"]))
            items.append({**_hotel(hotels[hotel_id]), "check_in": query.check_in.isoformat(),
                          "check_out": query.check_out.isoformat(), "nights": query.nights,
                          "guests": query.guests, "price": room_types[0]["price"],
                          "room_types": room_types})
            assert price == room_types[0]["price"]["amount"]
        next_cursor = (encode_cursor(page[-1][0], page[-1][1], query.sort)
                       if len(ranked) > query.limit else None)
        return {"items": items, "next_cursor": next_cursor}

    async def hotel(self, hotel_id: int, stay: HotelStay) -> dict[str, Any]:
        """Return hotel *hotel_id* with its room types, and live nightly availability if dated."""
        rows = await fetch_all(self.pool, "SELECT id, name, city, country, tz, stars, lat, lon"
                                          " FROM hotels WHERE id = %s", (hotel_id,))
        if not rows:
            raise NotFound(f"hotel {hotel_id} does not exist")
        types = await fetch_all(self.pool, "SELECT id, code, name, max_guests FROM room_types"
                                           " WHERE hotel_id = %s ORDER BY code", (hotel_id,))
        body = {**_hotel(rows[0]), "room_types": [
            {"code": t["code"], "name": t["name"], "max_guests": t["max_guests"]} for t in types]}
        if stay.check_in is None or stay.check_out is None or not types:
            return body
        nights = await fetch_all(
            self.pool,
            "SELECT rt.code, n.night, n.available, n.rate_amount, n.currency"
            " FROM room_types rt JOIN room_nights n ON n.room_type_id = rt.id"
            " AND n.night >= %s AND n.night < %s WHERE rt.hotel_id = %s"
            " ORDER BY rt.code, n.night", (stay.check_in, stay.check_out, hotel_id))
        per_type: dict[str, list[dict[str, Any]]] = {}
        for n in nights:
            per_type.setdefault(n["code"], []).append(
                {"date": n["night"].isoformat(), "available": n["available"],
                 "rate": {"amount": n["rate_amount"], "currency": n["currency"]}})
        stay_nights = (stay.check_out - stay.check_in).days
        for room_type in body["room_types"]:
            its = per_type.get(room_type["code"], [])
            rooms = -(-stay.guests // room_type["max_guests"])
            room_type["nights"] = its
            room_type["rooms"] = rooms
            room_type["bookable"] = (len(its) == stay_nights
                                     and all(n["available"] >= rooms for n in its))
            if its:
                room_type["price"] = {"amount": rooms * sum(n["rate"]["amount"] for n in its),
                                      "currency": its[0]["rate"]["currency"]}
        body.update(check_in=stay.check_in.isoformat(), check_out=stay.check_out.isoformat(),
                    guests=stay.guests)
        return body


def _check_not_past(check_in: date, tz: str) -> None:
    if check_in < datetime.now(ZoneInfo(tz)).date():
        raise DateInPast(f"{check_in.isoformat()} has already passed at the hotel")
