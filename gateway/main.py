"""Build the gateway application."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from gateway.edge_cache import EdgeCache
from gateway.jwks import initial_verifier, refresh_keys
from gateway.keys import (
    clients_key,
    edge_cache_key,
    limit_metrics_key,
    route_metrics_key,
    settings_key,
    verifier_key,
)
from gateway.openapi import openapi
from gateway.operations import register
from gateway.ratelimit import limiter_ctx, rate_limit_middleware
from gateway.route_metrics import new_batch, route_metrics_middleware
from gateway.routes import OPERATIONS
from gateway.settings import Settings
from itinera.http import ServiceClient
from itinera.limits import metrics as limit_metrics
from itinera.metric_batch import flusher
from itinera.web import SERVICE_TOKEN_HEADER, checks_key, new_app


async def _upstreams(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with aiohttp.ClientSession() as http:
        inventory = ServiceClient(http, settings.inventory_url, name="inventory",
                                  headers={SERVICE_TOKEN_HEADER: settings.internal_token})
        checkout = ServiceClient(http, settings.checkout_api_url, name="checkout",
                                 timeout=15)
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
    # Route metrics before the rate limiter, so a 429 counts as an answer of its route.
    app = new_app(middlewares=[route_metrics_middleware, rate_limit_middleware])
    app[settings_key] = settings
    app[route_metrics_key] = new_batch()
    app[limit_metrics_key] = limit_metrics.new_batch("gateway")
    app[verifier_key] = initial_verifier(settings.jwks_path, issuer=settings.jwt_issuer,
                                         audience=settings.jwt_audience)
    app[clients_key] = {}
    app[edge_cache_key] = EdgeCache(ttl=settings.edge_cache_seconds)
    app.cleanup_ctx.append(refresh_keys)
    app.cleanup_ctx.append(_upstreams)
    app.cleanup_ctx.append(limiter_ctx)
    app.cleanup_ctx.append(flusher(app[route_metrics_key]))
    app.cleanup_ctx.append(flusher(app[limit_metrics_key]))
    app.router.add_get("/v1/openapi.json", openapi)
    register(app, OPERATIONS)
    return app
