"""Gateway handlers: check the caller, then hand the request to the owning service."""

from __future__ import annotations

from aiohttp import web

from gateway.keys import clients_key, verifier_key
from itinera.auth import Principal, require_admin
from itinera.web import ADMIN_HEADER, CUSTOMER_HEADER

# Headers a client may send upstream; everything else stays at the edge.
FORWARDED = ("Authorization", "Idempotency-Key", "Content-Type", "Accept")


def principal(request: web.Request) -> Principal:
    """Return the verified caller or raise `Unauthorized`."""
    return request.app[verifier_key].verify(request.headers.get("Authorization"))


async def _relay(request: web.Request, upstream: str, path: str, *,
                 customer: str | None = None, forward_auth: bool = False,
                 admin: bool = False) -> web.Response:
    client = request.app[clients_key][upstream]
    headers = {h: request.headers[h] for h in FORWARDED if h in request.headers}
    if not forward_auth:
        headers.pop("Authorization", None)
    if customer is not None:
        headers[CUSTOMER_HEADER] = customer
    if admin:
        headers[ADMIN_HEADER] = "true"
    query = f"?{request.query_string}" if request.query_string else ""
    body = await request.read() if request.can_read_body else None
    status, upstream_headers, raw = await client.send(
        request.method, path + query, body=body, headers=headers,
        retry=request.method in ("GET", "HEAD"))
    response = web.Response(status=status, body=raw)
    response.headers["Content-Type"] = upstream_headers.get("Content-Type", "application/json")
    for name in ("Location", "Retry-After"):
        if name in upstream_headers:
            response.headers[name] = upstream_headers[name]
    return response


async def search_flights(request: web.Request) -> web.Response:
    """Search flights (public)."""
    return await _relay(request, "inventory", "/v1/flights")


async def flight_details(request: web.Request) -> web.Response:
    """Show one flight with live availability (public)."""
    return await _relay(request, "inventory", f"/v1/flights/{request.match_info['flight_id']}")


async def search_hotels(request: web.Request) -> web.Response:
    """Search hotels (public)."""
    return await _relay(request, "inventory", "/v1/hotels")


async def hotel_details(request: web.Request) -> web.Response:
    """Show one hotel with live availability for the given dates (public)."""
    return await _relay(request, "inventory", f"/v1/hotels/{request.match_info['hotel_id']}")


async def inventory_admin(request: web.Request) -> web.Response:
    """Relay an admin's catalog or holds request to inventory's /internal/admin/."""
    require_admin(principal(request))
    upstream = "/internal/admin/" + request.path.removeprefix("/v1/admin/")
    return await _relay(request, "inventory", upstream, admin=True)


async def create_hold(request: web.Request) -> web.Response:
    """Hold seats for the caller."""
    return await _relay(request, "inventory", "/internal/holds",
                        customer=principal(request).sub)


async def hold(request: web.Request) -> web.Response:
    """Read or release the caller's hold."""
    return await _relay(request, "inventory", f"/internal/holds/{request.match_info['hold_id']}",
                        customer=principal(request).sub)


async def bookings(request: web.Request) -> web.Response:
    """Hand a bookings request to the checkout API, whose authorizer checks the token again."""
    principal(request)
    return await _relay(request, "checkout", request.path, forward_auth=True)

