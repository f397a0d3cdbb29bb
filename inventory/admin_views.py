"""Operator handlers under /internal/admin/ (the gateway checks the admin scope first)."""

from __future__ import annotations

from aiohttp import web

from inventory.admin_params import (
    parse_capacity,
    parse_hold_listing,
    parse_new_flight,
    parse_new_hotel,
    parse_night_range,
)
from inventory.hotel_params import StayQuery
from inventory.keys import admin_key, cache_key, catalog_key, hotels_key
from inventory.params import _only, parse_flight_id
from inventory.pricing import CABINS
from itinera.errors import NotFound
from itinera.web import json_response, read_json


async def create_flight(request: web.Request) -> web.Response:
    """Add a flight with its cabins; answer its details."""
    spec = parse_new_flight(await read_json(request))
    flight_id = await request.app[admin_key].create_flight(spec)
    body = await request.app[catalog_key].flight(flight_id)
    return json_response(body, status=201,
                         headers={"Location": f"/v1/flights/{flight_id}"})


async def create_hotel(request: web.Request) -> web.Response:
    """Add a hotel with room types on sale for a range of nights; answer its details."""
    spec = parse_new_hotel(await read_json(request))
    hotel_id = await request.app[admin_key].create_hotel(spec)
    body = await request.app[hotels_key].hotel(hotel_id, StayQuery())
    return json_response(body, status=201, headers={"Location": f"/v1/hotels/{hotel_id}"})


async def set_cabin_capacity(request: web.Request) -> web.Response:
    """Change one cabin's capacity; 409 capacity_below_committed under held + sold."""
    flight_id = parse_flight_id(request.match_info["flight_id"])
    cabin = request.match_info["cabin"]
    if cabin not in CABINS:
        raise NotFound(f"no cabin {cabin[:20]!r}")
    body = await read_json(request)
    _only(body, {"capacity"}, "body")
    result = await request.app[admin_key].set_cabin_capacity(flight_id, cabin,
                                                             parse_capacity(body))
    return json_response(result)


async def set_room_capacity(request: web.Request) -> web.Response:
    """Change a room type's capacity on a range of nights, all or none."""
    hotel_id = parse_flight_id(request.match_info["hotel_id"], what="hotel")
    body = await read_json(request)
    _only(body, {"from", "to", "capacity"}, "body")
    first, last = parse_night_range(body)
    result = await request.app[admin_key].set_room_capacity(
        hotel_id, request.match_info["room_type"], first, last, parse_capacity(body))
    return json_response(result)


async def list_holds(request: web.Request) -> web.Response:
    """List holds newest first, optionally by status, paginated."""
    status, limit, cursor = parse_hold_listing(request.query)
    return json_response(await request.app[admin_key].list_holds(status, limit, cursor))


async def stats(request: web.Request) -> web.Response:
    """Return the search cache's counters and hit ratio since start."""
    search_cache = request.app[cache_key]
    return json_response({"search_cache": {**search_cache.stats.report(),
                                           "redis_degraded": search_cache.degraded}})
