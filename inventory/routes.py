"""URL map of the inventory service; path parameters admit only their contract's pattern."""

from __future__ import annotations

from aiohttp import web

from inventory import admin_views, views
from itinera.api.types import CATALOG_ID, HEX_ID, ROOM_CODE

FLIGHT = f"{{flight_id:{CATALOG_ID}}}"
HOTEL = f"{{hotel_id:{CATALOG_ID}}}"
HOLD = f"{{hold_id:{HEX_ID}}}"


def setup_routes(app: web.Application) -> None:
    """Add the public and internal routes to *app*."""
    r = app.router
    r.add_get("/v1/flights", views.search_flights)
    r.add_get(f"/v1/flights/{FLIGHT}", views.get_flight)
    r.add_get("/v1/hotels", views.search_hotels)
    r.add_get(f"/v1/hotels/{HOTEL}", views.get_hotel)
    r.add_post("/internal/holds", views.create_hold)
    r.add_get(f"/internal/holds/{HOLD}", views.get_hold)
    r.add_delete(f"/internal/holds/{HOLD}", views.delete_hold)
    r.add_post(f"/internal/holds/{HOLD}/pin", views.pin_hold)
    r.add_post(f"/internal/holds/{HOLD}/confirm", views.confirm_hold)
    r.add_post(f"/internal/holds/{HOLD}/release", views.release_hold)
    r.add_post(f"/internal/holds/{HOLD}/cancel", views.cancel_hold)
    r.add_get("/internal/stats", admin_views.stats)
    r.add_post("/internal/admin/flights", admin_views.create_flight)
    r.add_patch(f"/internal/admin/flights/{FLIGHT}/cabins/{{cabin}}",
                admin_views.set_cabin_capacity)
    r.add_post("/internal/admin/hotels", admin_views.create_hotel)
    r.add_patch(f"/internal/admin/hotels/{HOTEL}/room-types/{{room_type:{ROOM_CODE}}}/nights",
                admin_views.set_room_capacity)
    r.add_get("/internal/admin/holds", admin_views.list_holds)
