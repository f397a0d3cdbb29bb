"""Validate operator requests: new flights and hotels, capacity changes, hold listings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from multidict import MultiMapping

from inventory.errors import InvalidLimit
from inventory.params import MAX_LIMIT, _only
from inventory.pricing import CABINS
from itinera.errors import BadRequest, ValidationFailed

HOLD_STATUSES = ("active", "confirmed", "released", "expired", "cancelled")
MAX_CAPACITY = 1000
MAX_RANGE_NIGHTS = 366
_IATA = re.compile(r"^[A-Z]{3}$")
_FLIGHT_NO = re.compile(r"^[A-Z0-9]{2}[0-9]{1,5}$")
_CARRIER = re.compile(r"^[A-Z0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ROOM_CODE = re.compile(r"^[a-z0-9_]{1,32}$")


def parse_new_flight(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a flight to create: numbers, route, local departure and cabins with fares."""
    _only(body, {"flight_no", "carrier", "origin", "destination", "departure_local", "cabins"},
          "body")
    spec = {name: _text(body, name, pattern) for name, pattern in (
        ("flight_no", _FLIGHT_NO), ("carrier", _CARRIER), ("origin", _IATA),
        ("destination", _IATA))}
    if spec["origin"] == spec["destination"]:
        raise ValidationFailed("origin and destination must differ")
    raw = body.get("departure_local")
    try:
        departure = datetime.strptime(str(raw), "%Y-%m-%dT%H:%M")
    except ValueError as exc:
        raise BadRequest("departure_local must be YYYY-MM-DDTHH:MM (local time)") from exc
    cabins = body.get("cabins")
    if not isinstance(cabins, list) or not 1 <= len(cabins) <= len(CABINS):
        raise ValidationFailed("cabins must list 1 or 2 cabins")
    parsed = []
    for n, cabin in enumerate(cabins):
        if not isinstance(cabin, dict):
            raise BadRequest(f"cabins[{n}] must be an object")
        _only(cabin, {"cabin", "capacity", "fare"}, f"cabins[{n}]")
        if cabin.get("cabin") not in CABINS:
            raise ValidationFailed(f"cabins[{n}].cabin must be one of {', '.join(CABINS)}")
        parsed.append({"cabin": cabin["cabin"], "capacity": parse_capacity(cabin),
                       "fare": _money(cabin.get("fare"), f"cabins[{n}].fare")})
    if len({c["cabin"] for c in parsed}) != len(parsed):
        raise ValidationFailed("a cabin appears twice")
    return {**spec, "departure_local": departure, "cabins": parsed}


def parse_new_hotel(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return a hotel to create with its room types and the nights they are on sale."""
    _only(body, {"name", "city", "country", "tz", "stars", "lat", "lon", "room_types", "nights"},
          "body")
    for name, size in (("name", 200), ("city", 120)):
        if not isinstance(body.get(name), str) or not 1 <= len(body[name].strip()) <= size:
            raise ValidationFailed(f"{name} must be a text of 1 to {size} characters")
    country = body.get("country")
    if not isinstance(country, str) or not re.fullmatch(r"[A-Z]{2}", country):
        raise ValidationFailed("country must be an ISO 3166 alpha-2 code")
    try:
        ZoneInfo(str(body.get("tz")))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed("tz must be an IANA time zone") from exc
    stars = body.get("stars")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise ValidationFailed("stars must be 1 to 5")
    coords = {}
    for name, bound in (("lat", 90), ("lon", 180)):
        value = body.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool) or abs(value) > bound:
            raise ValidationFailed(f"{name} must be a number within +-{bound}")
        coords[name] = float(value)
    nights = body.get("nights")
    if not isinstance(nights, dict):
        raise ValidationFailed("nights must be {\"from\": YYYY-MM-DD, \"to\": YYYY-MM-DD}")
    first, last = parse_night_range(nights)
    types = body.get("room_types")
    if not isinstance(types, list) or not 1 <= len(types) <= 20:
        raise ValidationFailed("room_types must list 1 to 20 room types")
    rooms = []
    for n, room in enumerate(types):
        if not isinstance(room, dict):
            raise BadRequest(f"room_types[{n}] must be an object")
        _only(room, {"code", "name", "max_guests", "capacity", "rate"}, f"room_types[{n}]")
        code, label = room.get("code"), room.get("name")
        if not isinstance(code, str) or not _ROOM_CODE.match(code):
            raise ValidationFailed(f"room_types[{n}].code must be a-z, 0-9 or _")
        if not isinstance(label, str) or not 1 <= len(label) <= 120:
            raise ValidationFailed(f"room_types[{n}].name must be 1 to 120 characters")
        guests = room.get("max_guests")
        if not isinstance(guests, int) or isinstance(guests, bool) or not 1 <= guests <= 9:
            raise ValidationFailed(f"room_types[{n}].max_guests must be 1 to 9")
        rooms.append({"code": code, "name": label, "max_guests": guests,
                      "capacity": parse_capacity(room),
                      "rate": _money(room.get("rate"), f"room_types[{n}].rate")})
    if len({r["code"] for r in rooms}) != len(rooms):
        raise ValidationFailed("a room type code appears twice")
    return {"name": body["name"].strip(), "city": body["city"].strip(), "country": country,
            "tz": body["tz"], "stars": stars, **coords, "room_types": rooms,
            "nights": {"from": first, "to": last}}


def parse_capacity(body: Mapping[str, Any]) -> int:
    """Return the `capacity` field: an integer from 0 to 1000."""
    capacity = body.get("capacity")
    if (not isinstance(capacity, int) or isinstance(capacity, bool)
            or not 0 <= capacity <= MAX_CAPACITY):
        raise ValidationFailed(f"capacity must be an integer from 0 to {MAX_CAPACITY}")
    return capacity


def parse_night_range(body: Mapping[str, Any]) -> tuple[date, date]:
    """Return [from, to) of a body with `from` and `to` dates, at most a year apart."""
    days = []
    for name in ("from", "to"):
        raw = body.get(name)
        try:
            days.append(date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10
                        else None)
        except ValueError:
            days.append(None)
        if days[-1] is None:
            raise BadRequest(f"{name} must be YYYY-MM-DD")
    first, last = days
    assert first is not None and last is not None
    if not 0 < (last - first).days <= MAX_RANGE_NIGHTS:
        raise ValidationFailed(f"to must be 1 to {MAX_RANGE_NIGHTS} nights after from")
    return first, last


def parse_hold_listing(query: MultiMapping[str]) -> tuple[str | None, int, str | None]:
    """Return (status, limit, cursor) of a hold listing."""
    unknown = sorted(set(query) - {"status", "limit", "cursor"})
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(unknown)}")
    status = query.get("status")
    if status is not None and status not in HOLD_STATUSES:
        raise ValidationFailed(f"status must be one of {', '.join(HOLD_STATUSES)}")
    raw = query.get("limit", "50")
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT * 2:
        raise InvalidLimit(f"limit must be between 1 and {MAX_LIMIT * 2}")
    return status, int(raw), query.get("cursor") or None


def _text(body: Mapping[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise ValidationFailed(f"{name} is missing or malformed")
    return value


def _money(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise ValidationFailed(f"{where} must be {{\"amount\": minor units, \"currency\"}}")
    amount, currency = raw["amount"], raw["currency"]
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount < 10**9:
        raise ValidationFailed(f"{where}.amount must be an integer number of minor units")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise ValidationFailed(f"{where}.currency must be an ISO 4217 code")
    return {"amount": amount, "currency": currency}
