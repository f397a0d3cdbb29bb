"""Build the gateway application."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from gateway import views
from gateway.buckets import RateLimiter
from gateway.jwks import initial_verifier, refresh_keys
from gateway.keys import clients_key, limiter_key, settings_key, verifier_key
from gateway.openapi import openapi
from gateway.ratelimit import rate_limit_middleware
from gateway.settings import Settings
from itinera.http import ServiceClient
from itinera.web import SERVICE_TOKEN_HEADER, checks_key, new_app


async def _upstreams(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with aiohttp.ClientSession() as http:
        inventory = ServiceClient(http, settings.inventory_url,
                                  headers={SERVICE_TOKEN_HEADER: settings.internal_token})
        checkout = ServiceClient(http, settings.checkout_api_url, timeout=15)
        app[clients_key].update(inventory=inventory, checkout=checkout)

        async def ping(client: ServiceClient, path: str) -> None:
            status, _, _ = await client.send("GET", path, retry=False)
            if status >= 500:
                raise RuntimeError(f"{path} answered {status}")

        # Without a token the bookings route answers 401: reachable is all readiness asks.
        app[checks_key].update(inventory=lambda: ping(inventory, "/health"),
                               checkout=lambda: ping(checkout, "/v1/bookings"))
        yield


def create_app(settings: Settings) -> web.Application:
    """Return the gateway app; upstream clients open when it starts."""
    app = new_app(middlewares=[rate_limit_middleware])
    app[settings_key] = settings
    app[limiter_key] = RateLimiter(rate=settings.rate_limit_per_second,
                                   burst=settings.rate_limit_burst)
    app[verifier_key] = initial_verifier(settings.jwks_path, issuer=settings.jwt_issuer,
                                         audience=settings.jwt_audience)
    app[clients_key] = {}
    app.cleanup_ctx.append(refresh_keys)
    app.cleanup_ctx.append(_upstreams)
    r = app.router
    r.add_get("/v1/openapi.json", openapi)
    r.add_get("/v1/flights", views.search_flights)
    r.add_get("/v1/flights/{flight_id}", views.flight_details)
    r.add_get("/v1/hotels", views.search_hotels)
    r.add_get("/v1/hotels/{hotel_id}", views.hotel_details)
    # Admin routes of inventory; path parts are constrained so no '..' reaches upstream.
    r.add_post("/v1/admin/flights", views.inventory_admin)
    r.add_patch("/v1/admin/flights/{flight_id:[0-9]{1,19}}/cabins/{cabin:[a-z]{1,16}}",
                views.inventory_admin)
    r.add_post("/v1/admin/hotels", views.inventory_admin)
    r.add_patch("/v1/admin/hotels/{hotel_id:[0-9]{1,19}}/room-types/{room_type:[a-z0-9_]{1,32}}"
                "/nights", views.inventory_admin)
    r.add_get("/v1/admin/holds", views.inventory_admin)
    r.add_post("/v1/holds", views.create_hold)
    r.add_get("/v1/holds/{hold_id}", views.hold)
    r.add_delete("/v1/holds/{hold_id}", views.hold)
    r.add_post("/v1/bookings", views.bookings)
    r.add_get("/v1/bookings", views.bookings)
    r.add_get("/v1/bookings/{booking_id}", views.bookings)
    r.add_post("/v1/bookings/{booking_id}/cancel", views.bookings)
    return app
