"""URL map of the inventory service."""

from __future__ import annotations

from aiohttp import web

from inventory import views


def setup_routes(app: web.Application) -> None:
    """Add the public and internal routes to *app*."""
    app.router.add_get("/v1/flights", views.search_flights)
    app.router.add_get("/v1/flights/{flight_id}", views.get_flight)
    app.router.add_post("/internal/holds", views.create_hold)
    app.router.add_get("/internal/holds/{hold_id}", views.get_hold)
    app.router.add_delete("/internal/holds/{hold_id}", views.delete_hold)
    app.router.add_post("/internal/holds/{hold_id}/confirm", views.confirm_hold)
    app.router.add_post("/internal/holds/{hold_id}/release", views.release_hold)
    app.router.add_post("/internal/holds/{hold_id}/cancel", views.cancel_hold)
