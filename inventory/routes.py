"""The inventory service's routes, one per line: method, path, handler and who may call it."""

from __future__ import annotations

from aiohttp import web

from inventory import admin_views, views
from inventory.callers import CHECKOUT, GATEWAY, InventoryRoute, routes_key
from itinera.routes import aiohttp_path

# The gateway acts for travellers and operators, checkout pays for holds: a leaked gateway
# credential confirms nothing.
BY_GATEWAY = frozenset({GATEWAY})
BY_CHECKOUT = frozenset({CHECKOUT})
BY_BOTH = BY_GATEWAY | BY_CHECKOUT

ROUTES = [
    InventoryRoute(method="GET", path="/v1/flights", handler=views.search_flights),
    InventoryRoute(method="GET", path="/v1/flights/{flight_id}", handler=views.get_flight),
    InventoryRoute(method="GET", path="/v1/hotels", handler=views.search_hotels),
    InventoryRoute(method="GET", path="/v1/hotels/{hotel_id}", handler=views.get_hotel),
    InventoryRoute(method="POST", path="/internal/holds", handler=views.create_hold,
                   callers=BY_GATEWAY),
    InventoryRoute(method="GET", path="/internal/holds/{hold_id}", handler=views.get_hold,
                   callers=BY_BOTH),
    InventoryRoute(method="DELETE", path="/internal/holds/{hold_id}",
                   handler=views.delete_hold, callers=BY_GATEWAY),
    InventoryRoute(method="POST", path="/internal/holds/{hold_id}/pin", handler=views.pin_hold,
                   callers=BY_CHECKOUT),
    InventoryRoute(method="POST", path="/internal/holds/{hold_id}/confirm",
                   handler=views.confirm_hold, callers=BY_CHECKOUT),
    InventoryRoute(method="POST", path="/internal/holds/{hold_id}/release",
                   handler=views.release_hold, callers=BY_CHECKOUT),
    InventoryRoute(method="POST", path="/internal/holds/{hold_id}/cancel",
                   handler=views.cancel_hold, callers=BY_CHECKOUT),
    InventoryRoute(method="GET", path="/internal/stats", handler=admin_views.stats,
                   callers=BY_BOTH),
    InventoryRoute(method="POST", path="/internal/admin/flights",
                   handler=admin_views.create_flight, callers=BY_GATEWAY),
    InventoryRoute(method="PATCH", path="/internal/admin/flights/{flight_id}/cabins/{cabin}",
                   handler=admin_views.set_cabin_capacity, callers=BY_GATEWAY),
    InventoryRoute(method="POST", path="/internal/admin/hotels",
                   handler=admin_views.create_hotel, callers=BY_GATEWAY),
    InventoryRoute(method="PATCH",
                   path="/internal/admin/hotels/{hotel_id}/room-types/{room_type}/nights",
                   handler=admin_views.set_room_capacity, callers=BY_GATEWAY),
    InventoryRoute(method="GET", path="/internal/admin/holds", handler=admin_views.list_holds,
                   callers=BY_GATEWAY),
]


def setup_routes(app: web.Application) -> None:
    """Add every route of the table to *app*, each parameter held to its pattern."""
    app[routes_key] = {}
    for route in ROUTES:
        added = app.router.add_route(route.method, aiohttp_path(route.path), route.handler)
        app[routes_key][added] = route
