"""HTTP handlers: parse at the edge, call the catalog or hold repository, return JSON."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from inventory.hotel_params import parse_hotel_search, parse_stay_query
from inventory.keys import cache_key, catalog_key, holds_key, hotels_key, settings_key
from inventory.params import (
    parse_booking_id,
    parse_customer_id,
    parse_flight_id,
    parse_hold_id,
    parse_hold_items,
    parse_search,
)
from itinera.errors import Forbidden, Unauthorized
from itinera.web import (
    ADMIN_HEADER,
    CUSTOMER_HEADER,
    SERVICE_TOKEN_HEADER,
    json_response,
    read_json,
)

INTERNAL_PREFIX = "/internal/"
ADMIN_PREFIX = "/internal/admin/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def service_token_middleware(token: str) -> Callable[[web.Request, Handler],
                                                     Awaitable[web.StreamResponse]]:
    """Return a middleware that lets `/internal/*` through only with the service token."""
    expected = token.encode()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(INTERNAL_PREFIX):
            given = request.headers.get(SERVICE_TOKEN_HEADER, "").encode()
            # Constant time, so the token cannot be guessed byte by byte from response times.
            if not hmac.compare_digest(given, expected):
                raise Unauthorized("a valid X-Service-Token header is required")
            if (request.path.startswith(ADMIN_PREFIX)
                    and request.headers.get(ADMIN_HEADER, "").lower() != "true"):
                raise Forbidden("admin routes need the gateway's X-Admin header")
        return await handler(request)

    return middleware


async def search_flights(request: web.Request) -> web.Response:
    """Search flights with enough seats; results are cached briefly."""
    query = parse_search(request.query)
    catalog = request.app[catalog_key]
    await catalog.check_search(query)
    result, cached = await request.app[cache_key].get_or_load(
        query.cache_key(), lambda: catalog.search(query))
    return json_response(result, headers={"X-Cache": "hit" if cached else "miss"})


async def search_hotels(request: web.Request) -> web.Response:
    """Search hotels of a city with a room free every night of the stay; cached briefly."""
    query = parse_hotel_search(request.query)
    hotels = request.app[hotels_key]
    await hotels.check_search(query)
    result, cached = await request.app[cache_key].get_or_load(
        query.cache_key(), lambda: hotels.search(query))
    return json_response(result, headers={"X-Cache": "hit" if cached else "miss"})


async def get_hotel(request: web.Request) -> web.Response:
    """Return one hotel with its room types and, for given dates, live nightly availability."""
    hotel_id = parse_flight_id(request.match_info["hotel_id"], what="hotel")
    stay = parse_stay_query(request.query)
    return json_response(await request.app[hotels_key].hotel(hotel_id, stay))


async def get_flight(request: web.Request) -> web.Response:
    """Return one flight with live availability of every cabin."""
    flight_id = parse_flight_id(request.match_info["flight_id"])
    return json_response(await request.app[catalog_key].flight(flight_id))


async def create_hold(request: web.Request) -> web.Response:
    """Hold seats for the calling customer, all or nothing."""
    customer_id = parse_customer_id(request.headers.get(CUSTOMER_HEADER), required=True)
    assert customer_id is not None
    items = parse_hold_items(await read_json(request))
    hold = await request.app[holds_key].create(customer_id, items)
    return json_response(hold, status=201)


async def get_hold(request: web.Request) -> web.Response:
    """Return a hold; the owner check applies when X-Customer-Id is sent."""
    hold_id = parse_hold_id(request.match_info["hold_id"])
    customer_id = parse_customer_id(request.headers.get(CUSTOMER_HEADER), required=False)
    return json_response(await request.app[holds_key].get(hold_id, customer_id))


async def delete_hold(request: web.Request) -> web.Response:
    """Release a hold on behalf of its owner; 409 while a booking pays for it."""
    hold_id = parse_hold_id(request.match_info["hold_id"])
    customer_id = parse_customer_id(request.headers.get(CUSTOMER_HEADER), required=False)
    return json_response(await request.app[holds_key].release(hold_id, customer_id))


async def pin_hold(request: web.Request) -> web.Response:
    """Tie a hold to the booking about to pay for it; the same booking again is harmless."""
    hold_id = parse_hold_id(request.match_info["hold_id"])
    customer_id = parse_customer_id(request.headers.get(CUSTOMER_HEADER), required=False)
    booking_id = parse_booking_id(await read_json(request), required=True)
    assert booking_id is not None
    grace = request.app[settings_key].hold_checkout_grace_seconds
    return json_response(await request.app[holds_key].pin(hold_id, booking_id, customer_id,
                                                          grace_seconds=grace))


async def confirm_hold(request: web.Request) -> web.Response:
    """Confirm a hold for a booking; repeating it with the same booking id is harmless."""
    hold_id = parse_hold_id(request.match_info["hold_id"])
    customer_id = parse_customer_id(request.headers.get(CUSTOMER_HEADER), required=False)
    booking_id = parse_booking_id(await read_json(request), required=True)
    assert booking_id is not None
    return json_response(await request.app[holds_key].confirm(hold_id, booking_id, customer_id))


async def release_hold(request: web.Request) -> web.Response:
    """Release a hold as checkout's compensation step for its booking; idempotent."""
    hold_id = parse_hold_id(request.match_info["hold_id"])
    booking_id = parse_booking_id(await read_json(request), required=False)
    return json_response(await request.app[holds_key].release(hold_id, booking_id=booking_id))


async def cancel_hold(request: web.Request) -> web.Response:
    """Cancel a confirmed hold for its booking; repeating the same cancel is harmless."""
    hold_id = parse_hold_id(request.match_info["hold_id"])
    booking_id = parse_booking_id(await read_json(request), required=True)
    assert booking_id is not None
    return json_response(await request.app[holds_key].cancel(hold_id, booking_id))
