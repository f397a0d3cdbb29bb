"""Operator handlers under /internal/admin/ (the gateway checks the admin scope first)."""

from __future__ import annotations

from aiohttp import web

from inventory.keys import admin_key, cache_key, catalog_key, holds_key, hotels_key
from inventory.views import catalog_id
from itinera.api.admin import CabinCapacity, HoldListing, NewFlight, NewHotel, NightsCapacity
from itinera.api.search import HotelStay
from itinera.api.validation import parse_query
from itinera.web import json_response, read_model


async def create_flight(request: web.Request) -> web.Response:
    """Add a flight with its cabins; answer its details."""
    spec = await read_model(NewFlight, request)
    flight_id = await request.app[admin_key].create_flight(spec)
    body = await request.app[catalog_key].flight(flight_id)
    return json_response(body, status=201,
                         headers={"Location": f"/v1/flights/{flight_id}"})


async def create_hotel(request: web.Request) -> web.Response:
    """Add a hotel with room types on sale for a range of nights; answer its details."""
    spec = await read_model(NewHotel, request)
    hotel_id = await request.app[admin_key].create_hotel(spec)
    body = await request.app[hotels_key].hotel(hotel_id, HotelStay())
    return json_response(body, status=201, headers={"Location": f"/v1/hotels/{hotel_id}"})


async def set_cabin_capacity(request: web.Request) -> web.Response:
    """Change one cabin's capacity; 409 capacity_below_committed under held + sold."""
    flight_id = catalog_id(request, "flight_id")
    # The route admits the known cabins only.
    cabin = request.match_info["cabin"]
    body = await read_model(CabinCapacity, request)
    return json_response(await request.app[admin_key].set_cabin_capacity(flight_id, cabin,
                                                                         body.capacity))


async def set_room_capacity(request: web.Request) -> web.Response:
    """Change a room type's capacity on a range of nights, all or none."""
    hotel_id = catalog_id(request, "hotel_id")
    body = await read_model(NightsCapacity, request)
    return json_response(await request.app[admin_key].set_room_capacity(
        hotel_id, request.match_info["room_type"], body.first, body.last, body.capacity))


async def list_holds(request: web.Request) -> web.Response:
    """List holds newest first, optionally by status, paginated."""
    listing = parse_query(HoldListing, request.query)
    return json_response(await request.app[admin_key].list_holds(listing.status, listing.limit,
                                                                 listing.cursor))


async def stats(request: web.Request) -> web.Response:
    """Return the search cache's counters and hit ratio, and how holds were batched, since start."""
    search_cache = request.app[cache_key]
    batcher = request.app[holds_key].batcher
    return json_response({"search_cache": {**search_cache.stats.report(),
                                           "redis_degraded": search_cache.degraded},
                          "hold_batches": {"batches": batcher.batches, "holds": batcher.holds}})
