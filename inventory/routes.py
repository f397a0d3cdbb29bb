"""URL map of the inventory service; path parameters admit only their contract's pattern."""

from __future__ import annotations

from aiohttp import web

from inventory import admin_views, views
from inventory.callers import CHECKOUT, GATEWAY, Handler, callers_key
from itinera.api.types import CATALOG_ID, HEX_ID, ROOM_CODE

FLIGHT = f"{{flight_id:{CATALOG_ID}}}"
HOTEL = f"{{hotel_id:{CATALOG_ID}}}"
HOLD = f"{{hold_id:{HEX_ID}}}"
BOTH = frozenset({GATEWAY, CHECKOUT})

# Internal routes and the one service each serves: the gateway acts for travellers and
# operators, checkout pays for holds. A leaked gateway credential confirms nothing.
INTERNAL: list[tuple[str, str, Handler, frozenset[str]]] = [
    ("POST", "/internal/holds", views.create_hold, frozenset({GATEWAY})),
    ("GET", f"/internal/holds/{HOLD}", views.get_hold, BOTH),
    ("DELETE", f"/internal/holds/{HOLD}", views.delete_hold, frozenset({GATEWAY})),
    ("POST", f"/internal/holds/{HOLD}/pin", views.pin_hold, frozenset({CHECKOUT})),
    ("POST", f"/internal/holds/{HOLD}/confirm", views.confirm_hold, frozenset({CHECKOUT})),
    ("POST", f"/internal/holds/{HOLD}/release", views.release_hold, frozenset({CHECKOUT})),
    ("POST", f"/internal/holds/{HOLD}/cancel", views.cancel_hold, frozenset({CHECKOUT})),
    ("GET", "/internal/stats", admin_views.stats, BOTH),
    ("POST", "/internal/admin/flights", admin_views.create_flight, frozenset({GATEWAY})),
    ("PATCH", f"/internal/admin/flights/{FLIGHT}/cabins/{{cabin}}",
     admin_views.set_cabin_capacity, frozenset({GATEWAY})),
    ("POST", "/internal/admin/hotels", admin_views.create_hotel, frozenset({GATEWAY})),
    ("PATCH", f"/internal/admin/hotels/{HOTEL}/room-types/{{room_type:{ROOM_CODE}}}/nights",
     admin_views.set_room_capacity, frozenset({GATEWAY})),
    ("GET", "/internal/admin/holds", admin_views.list_holds, frozenset({GATEWAY})),
]


def setup_routes(app: web.Application) -> None:
    """Add the public and internal routes to *app*, and who may call each internal one."""
    r = app.router
    r.add_get("/v1/flights", views.search_flights)
    r.add_get(f"/v1/flights/{FLIGHT}", views.get_flight)
    r.add_get("/v1/hotels", views.search_hotels)
    r.add_get(f"/v1/hotels/{HOTEL}", views.get_hotel)
    app[callers_key] = {}
    for method, path, handler, callers in INTERNAL:
        r.add_route(method, path, handler)
        app[callers_key][handler] = callers
