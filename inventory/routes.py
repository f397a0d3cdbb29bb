"""URL map of the inventory service."""

from __future__ import annotations

from aiohttp import web

from inventory import admin_views, views


def setup_routes(app: web.Application) -> None:
    """Add the public and internal routes to *app*."""
    app.router.add_get("/v1/flights", views.search_flights)
    app.router.add_get("/v1/flights/{flight_id}", views.get_flight)
    app.router.add_get("/v1/hotels", views.search_hotels)
    app.router.add_get("/v1/hotels/{hotel_id}", views.get_hotel)
    app.router.add_post("/internal/holds", views.create_hold)
    app.router.add_get("/internal/holds/{hold_id}", views.get_hold)
    app.router.add_delete("/internal/holds/{hold_id}", views.delete_hold)
    app.router.add_post("/internal/holds/{hold_id}/pin", views.pin_hold)
    app.router.add_post("/internal/holds/{hold_id}/confirm", views.confirm_hold)
    app.router.add_post("/internal/holds/{hold_id}/release", views.release_hold)
    app.router.add_post("/internal/holds/{hold_id}/cancel", views.cancel_hold)
    app.router.add_get("/internal/stats", admin_views.stats)
    app.router.add_post("/internal/admin/flights", admin_views.create_flight)
    app.router.add_patch("/internal/admin/flights/{flight_id}/cabins/{cabin}",
                         admin_views.set_cabin_capacity)
    app.router.add_post("/internal/admin/hotels", admin_views.create_hotel)
    app.router.add_patch("/internal/admin/hotels/{hotel_id}/room-types/{room_type}/nights",
                         admin_views.set_room_capacity)
    app.router.add_get("/internal/admin/holds", admin_views.list_holds)
