"""The parameters of a load run, found in the seeded catalog through the public API."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import airportsdata

from inventory.seed import HUBS
from itinera.http import ServiceClient

# Routes and days sampled per run: enough spread that bookings do not all queue on a few
# cabin rows (which is what the flash sale is for), few enough to find in seconds.
ROUTE_SAMPLE = 24
DAYS_AHEAD = (1, 3, 6, 9)
FLASH_SEATS = 30


@dataclass(frozen=True, kw_only=True)
class Route:
    """A route and day that the search answers with flights."""

    origin: str
    destination: str
    date: str
    flight_ids: list[str]


@dataclass(frozen=True, kw_only=True)
class Stay:
    """A city whose hotel search answers for the given stay."""

    city: str
    iata: str
    check_in: str
    check_out: str
    hotel_ids: list[str]


@dataclass(frozen=True, kw_only=True)
class Catalog:
    """Routes, stays and the flash-sale flight that the travellers draw their requests from."""

    routes: list[Route]
    stays: list[Stay]
    city_of: dict[str, str] = field(default_factory=dict)
    flash_flight_id: str | None = None

    def to_json(self) -> str:
        """Return the catalog as JSON, for the report folder and the locust processes."""
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Catalog:
        """Read a catalog written by `to_json`."""
        raw = json.loads(text)
        return cls(routes=[Route(**r) for r in raw["routes"]],
                   stays=[Stay(**s) for s in raw["stays"]], city_of=raw.get("city_of", {}),
                   flash_flight_id=raw.get("flash_flight_id"))

    @classmethod
    def load(cls, path: str | Path) -> Catalog:
        """Read the catalog file at *path*."""
        return cls.from_json(Path(path).read_text())


def hub_cities() -> dict[str, str]:
    """Return each hub's city name as the hotel search knows it."""
    airports = airportsdata.load("IATA")
    return {code: airports[code]["city"][:120] for code in sorted(HUBS)}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def discover(client: ServiceClient, *, today: date, token: str,
                   seed: str = "itinera-load") -> Catalog:
    """Search a deterministic sample of hub routes and cities; keep what answers."""
    rng = random.Random(seed)  # noqa: S311 - a sample of routes, not a secret
    pairs = [(a, b) for a in sorted(HUBS) for b in sorted(HUBS) if a != b]
    routes = []
    for origin, destination in rng.sample(pairs, min(ROUTE_SAMPLE, len(pairs))):
        for days in DAYS_AHEAD:
            day = (today + timedelta(days=days)).isoformat()
            found = await client.call("GET", "/v1/flights?" + urlencode(
                {"origin": origin, "destination": destination, "date": day, "limit": 20}),
                headers=_auth(token))
            ids = [item["id"] for item in found["items"]]
            if ids:
                routes.append(Route(origin=origin, destination=destination, date=day,
                                    flight_ids=ids))
    cities = hub_cities()
    stays = []
    for iata, city in cities.items():
        check_in = today + timedelta(days=2)
        found = await client.call("GET", "/v1/hotels?" + urlencode(
            {"city": city, "check_in": check_in.isoformat(),
             "check_out": (check_in + timedelta(days=2)).isoformat(), "guests": 2}),
            headers=_auth(token))
        ids = [item["id"] for item in found["items"]]
        if ids:
            stays.append(Stay(city=city, iata=iata, check_in=check_in.isoformat(),
                              check_out=(check_in + timedelta(days=2)).isoformat(),
                              hotel_ids=ids))
    if not routes:
        raise RuntimeError("the catalog answered no flight for the sampled routes; is it seeded?")
    return Catalog(routes=routes, stays=stays, city_of=cities)


def flash_flight_spec(*, day: date, number: int, seats: int = FLASH_SEATS) -> dict[str, Any]:
    """Return the admin API body of a fresh flight with one small economy cabin."""
    return {"flight_no": f"FS{number % 100_000}", "carrier": "FS", "origin": "LHR",
            "destination": "JFK", "departure_local": f"{day.isoformat()}T10:00",
            "cabins": [{"cabin": "economy", "capacity": seats,
                        "fare": {"amount": 99_00, "currency": "EUR"}}]}


async def create_flash_flight(client: ServiceClient, *, admin_token: str, day: date,
                              number: int, seats: int = FLASH_SEATS) -> str:
    """Add the flash sale's flight through the admin API and return its id."""
    created = await client.call("POST", "/v1/admin/flights", headers=_auth(admin_token),
                                json=flash_flight_spec(day=day, number=number, seats=seats))
    return str(created["id"])
