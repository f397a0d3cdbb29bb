"""Who may call inventory's internal API: one credential per calling service, per route."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from itinera.errors import Forbidden, Unauthorized
from itinera.routes import Route
from itinera.web import ADMIN_HEADER, SERVICE_TOKEN_HEADER

GATEWAY, CHECKOUT = "gateway", "checkout"
INTERNAL_PREFIX = "/internal/"
ADMIN_PREFIX = "/internal/admin/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, kw_only=True)
class InventoryRoute(Route[Handler]):
    """A route of inventory and the services whose credential it admits."""

    # None for the public reads under /v1, which take no credential; an internal route
    # without callers serves nobody.
    callers: frozenset[str] | None = None


# Each route the router matched, as the table declares it.
routes_key = web.AppKey("inventory_routes", dict[web.AbstractRoute, InventoryRoute])


def service_token_middleware(tokens: Mapping[str, str]) -> Callable[
        [web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Return a middleware admitting `/internal/*` to the callers each route names."""
    expected = {name: token.encode() for name, token in tokens.items()}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(INTERNAL_PREFIX):
            return await handler(request)
        given = request.headers.get(SERVICE_TOKEN_HEADER, "").encode()
        # Constant time, so a token cannot be guessed byte by byte from response times.
        callers = {name for name, token in expected.items() if hmac.compare_digest(given, token)}
        if not callers:
            raise Unauthorized("a valid X-Service-Token header is required")
        if request.match_info.http_exception is None:
            route = request.app[routes_key].get(request.match_info.route)
            if route is None or not callers & (route.callers or frozenset()):
                raise Forbidden("this route does not serve the calling service")
        if (request.path.startswith(ADMIN_PREFIX)
                and request.headers.get(ADMIN_HEADER, "").lower() != "true"):
            raise Forbidden("admin routes need the gateway's X-Admin header")
        return await handler(request)

    return middleware
