"""HTTP handlers: parse with the contract's models, call a repository, return JSON."""

from __future__ import annotations

from aiohttp import web

from inventory.catalog import flight_search_key
from inventory.hold_keys import create_once
from inventory.hotels import hotel_search_key
from inventory.keys import (
    business_key,
    cache_key,
    catalog_key,
    holds_key,
    hotels_key,
    settings_key,
)
from itinera.api.bookings import idempotency_key
from itinera.api.holds import HoldRequest
from itinera.api.internal import BookingRef, OptionalBookingRef
from itinera.api.search import FlightSearch, HotelSearch, HotelStay
from itinera.api.types import MAX_ID
from itinera.api.validation import parse_query
from itinera.auth import canonical_subject
from itinera.errors import BadRequest, NotFound, SoldOut
from itinera.web import (
    CUSTOMER_HEADER,
    IDEMPOTENCY_HEADER,
    json_response,
    read_model,
)


def catalog_id(request: web.Request, name: str) -> int:
    """Return a path's flight or hotel id; the route admits digits only."""
    value = int(request.match_info[name])
    if value > MAX_ID:
        raise NotFound(f"no {name.removesuffix('_id')} {value}")
    return value


def customer(request: web.Request, *, required: bool) -> str | None:
    """Return the caller the gateway verified, from X-Customer-Id."""
    raw = request.headers.get(CUSTOMER_HEADER)
    if raw is None:
        if required:
            raise BadRequest("header X-Customer-Id is required")
        return None
    return canonical_subject(raw, error=BadRequest)


async def search_flights(request: web.Request) -> web.Response:
    """Search flights with enough seats; results are cached briefly."""
    query = parse_query(FlightSearch, request.query)
    catalog = request.app[catalog_key]
    await catalog.check_search(query)
    request.app[business_key].count("Searches")
    result, cached = await request.app[cache_key].get_or_load(
        flight_search_key(query), lambda: catalog.search(query))
    return json_response(result, headers={"X-Cache": "hit" if cached else "miss"})


async def search_hotels(request: web.Request) -> web.Response:
    """Search hotels of a city with a room free every night of the stay; cached briefly."""
    query = parse_query(HotelSearch, request.query)
    hotels = request.app[hotels_key]
    await hotels.check_search(query)
    request.app[business_key].count("Searches")
    result, cached = await request.app[cache_key].get_or_load(
        hotel_search_key(query), lambda: hotels.search(query))
    return json_response(result, headers={"X-Cache": "hit" if cached else "miss"})


async def get_hotel(request: web.Request) -> web.Response:
    """Return one hotel with its room types and, for given dates, live nightly availability."""
    hotel_id = catalog_id(request, "hotel_id")
    stay = parse_query(HotelStay, request.query)
    return json_response(await request.app[hotels_key].hotel(hotel_id, stay))


async def get_flight(request: web.Request) -> web.Response:
    """Return one flight with live availability of every cabin."""
    return json_response(await request.app[catalog_key].flight(catalog_id(request,
                                                                          "flight_id")))


async def create_hold(request: web.Request) -> web.Response:
    """Hold seats for the calling customer, all or nothing."""
    owner = customer(request, required=True)
    assert owner is not None
    body = await read_model(HoldRequest, request)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    metrics = request.app[business_key]
    try:
        if key is None:
            hold, replayed = await request.app[holds_key].create(owner, body.items), False
        else:
            hold, replayed = await create_once(request.app[holds_key], owner, body,
                                               idempotency_key(key))
    except SoldOut:
        metrics.count("HoldsSoldOut")
        raise
    if not replayed:
        metrics.count("HoldsCreated")
    return json_response(hold, status=201,
                         headers={"Idempotent-Replayed": "true"} if replayed else None)


async def get_hold(request: web.Request) -> web.Response:
    """Return the caller's hold; someone else's is not found."""
    return json_response(await request.app[holds_key].get(
        request.match_info["hold_id"], customer(request, required=True)))


async def delete_hold(request: web.Request) -> web.Response:
    """Release a hold on behalf of its owner; 409 while a booking pays for it."""
    return json_response(await request.app[holds_key].release(
        request.match_info["hold_id"], customer(request, required=True)))


async def _booking_ref(request: web.Request) -> str:
    ref = await read_model(BookingRef, request)
    return ref.booking_id


async def pin_hold(request: web.Request) -> web.Response:
    """Tie a hold to the booking about to pay for it; the same booking again is harmless."""
    booking_id = await _booking_ref(request)
    grace = request.app[settings_key].hold_checkout_grace_seconds
    return json_response(await request.app[holds_key].pin(
        request.match_info["hold_id"], booking_id, customer(request, required=True),
        grace_seconds=grace))


async def confirm_hold(request: web.Request) -> web.Response:
    """Confirm a hold for a booking; repeating it with the same booking id is harmless."""
    booking_id = await _booking_ref(request)
    return json_response(await request.app[holds_key].confirm(
        request.match_info["hold_id"], booking_id, customer(request, required=False)))


async def release_hold(request: web.Request) -> web.Response:
    """Release a hold as checkout's compensation step for its booking; idempotent."""
    ref = await read_model(OptionalBookingRef, request)
    return json_response(await request.app[holds_key].release(request.match_info["hold_id"],
                                                              booking_id=ref.booking_id))


async def cancel_hold(request: web.Request) -> web.Response:
    """Cancel a confirmed hold for its booking; repeating the same cancel is harmless."""
    booking_id = await _booking_ref(request)
    return json_response(await request.app[holds_key].cancel(request.match_info["hold_id"],
                                                             booking_id))
