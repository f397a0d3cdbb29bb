"""A service's routes as one table: a method, a path and a handler per row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from itinera.api.types import CABINS, CATALOG_ID, HEX_ID, ROOM_CODE

H = TypeVar("H")

# Every path parameter any service names, and the one pattern it admits: a route matches only
# values of that pattern, so nothing else (no `..%2F`) reaches a handler.
PATH_PATTERNS: dict[str, str] = {
    "flight_id": CATALOG_ID,
    "hotel_id": CATALOG_ID,
    "hold_id": HEX_ID,
    "booking_id": HEX_ID,
    "cabin": "|".join(CABINS),
    "room_type": ROOM_CODE,
}
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, kw_only=True)
class Route(Generic[H]):
    """One method and path of a service, and the handler that answers it.

    The path is a template as OpenAPI and API Gateway write it (`/v1/holds/{hold_id}`); each
    service adds who may call the route.
    """

    method: str
    path: str
    handler: H


def aiohttp_path(path: str) -> str:
    """Return the template *path* in aiohttp's syntax, each parameter held to its pattern."""
    return _PARAM.sub(lambda m: f"{{{m[1]}:{PATH_PATTERNS[m[1]]}}}", path)
