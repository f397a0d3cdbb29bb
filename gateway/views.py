"""Gateway handlers: hand what the edge validated to the owning service, as typed values."""

from __future__ import annotations

from urllib.parse import urlencode

import orjson
from aiohttp import web
from multidict import CIMultiDict
from pydantic import BaseModel

from gateway.edge_cache import Answer
from gateway.keys import clients_key, edge_cache_key, hold_guard_key
from gateway.operations import valid
from itinera.api.holds import HoldRequest
from itinera.errors import (
    DependencyUnavailable,
    Forbidden,
    ItineraError,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
)
from itinera.web import ADMIN_HEADER, CUSTOMER_HEADER, IDEMPOTENCY_HEADER, PROBLEM_JSON

# Upstream answers that reach the client as they are; a service's own problems included.
PASSED_HEADERS = ("Content-Type", "Location", "Retry-After", "Idempotent-Replayed")


def query_string(model: BaseModel | None) -> str:
    """Return the query string of a validated query, rebuilt from its typed values."""
    if model is None:
        return ""
    values = model.model_dump(mode="json", by_alias=True, exclude_none=True,
                              exclude_defaults=True)
    return f"?{urlencode(values)}" if values else ""


async def _relay(request: web.Request, upstream: str, path: str, *,
                 customer: str | None = None, admin: bool = False,
                 forward_auth: bool = False) -> web.Response:
    status, upstream_headers, raw = await _forward(request, upstream, path, customer=customer,
                                                   admin=admin, forward_auth=forward_auth)
    response = web.Response(status=status, body=raw)
    for name in PASSED_HEADERS:
        if name in upstream_headers:
            response.headers[name] = upstream_headers[name]
    return response


async def _forward(request: web.Request, upstream: str, path: str, *,
                   customer: str | None = None, admin: bool = False,
                   forward_auth: bool = False) -> tuple[int, CIMultiDict[str], bytes]:
    checked = valid(request)
    headers = {"Accept": "application/json"}
    body = None
    if checked.body is not None:
        body = checked.body.model_dump_json(by_alias=True).encode()
        headers["Content-Type"] = "application/json"
    if customer is not None:
        headers[CUSTOMER_HEADER] = customer
    if admin:
        headers[ADMIN_HEADER] = "true"
    if forward_auth:
        headers["Authorization"] = request.headers["Authorization"]
    if checked.idempotency_key is not None:
        headers[IDEMPOTENCY_HEADER] = checked.idempotency_key
    status, upstream_headers, raw = await request.app[clients_key][upstream].send(
        request.method, path + query_string(checked.query), body=body, headers=headers,
        retry=request.method in ("GET", "HEAD"))
    if status >= 400:
        problem = None
        if upstream_headers.get("Content-Type", "").startswith(PROBLEM_JSON):
            problem = public_problem(raw, request.path)
        if problem is None:
            # A platform answer (API Gateway, a balancer) rather than a service's problem.
            raise upstream_problem(upstream, status)
        raw = problem
    return status, upstream_headers, raw


def public_problem(raw: bytes, path: str) -> bytes | None:
    """Return a service's problem document as the client's: its `instance` is *path*.

    The service names its own internal route there; everything else (code, detail, fields
    like retry_after) is the client's to read. None if it is not a problem document at all.
    """
    try:
        problem = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(problem, dict):
        return None
    problem["instance"] = path
    return orjson.dumps(problem)


async def _search(request: web.Request, path: str) -> web.Response:
    """Relay a search through the edge cache: equal request lines share one answer briefly."""

    async def fetch() -> Answer:
        status, headers, raw = await _forward(request, "inventory", path)
        return Answer(status, headers.get("Content-Type", "application/json"), raw)

    return (await request.app[edge_cache_key].load(request.raw_path, fetch)).response()


def upstream_problem(upstream: str, status: int) -> ItineraError:
    """Return the problem to answer for an upstream error that came without one."""
    if status == 401:
        return Unauthorized("the token was refused")
    if status == 403:
        return Forbidden("not allowed")
    if status == 404:
        return NotFound("no such resource")
    if status == 413:
        return PayloadTooLarge("the body is too large")
    if status == 429:
        return RateLimited("too many requests; retry shortly", retry_after=1)
    if status >= 500:
        return DependencyUnavailable(f"the {upstream} service is unavailable; retry shortly")
    return ItineraError.answered(status, "bad_request", "Bad request", "the request was refused")


def _param(request: web.Request, name: str) -> str:
    # The route's pattern (digits or hex) already admitted only safe characters.
    return request.match_info[name]


async def search_flights(request: web.Request) -> web.Response:
    """Search flights (public)."""
    return await _search(request, "/v1/flights")


async def flight_details(request: web.Request) -> web.Response:
    """Show one flight with live availability (public)."""
    return await _relay(request, "inventory", f"/v1/flights/{_param(request, 'flight_id')}")


async def search_hotels(request: web.Request) -> web.Response:
    """Search hotels (public)."""
    return await _search(request, "/v1/hotels")


async def hotel_details(request: web.Request) -> web.Response:
    """Show one hotel with live availability for the given dates (public)."""
    return await _relay(request, "inventory", f"/v1/hotels/{_param(request, 'hotel_id')}")


async def create_flight(request: web.Request) -> web.Response:
    """Add a flight (admin)."""
    return await _relay(request, "inventory", "/internal/admin/flights", admin=True)


async def set_cabin_capacity(request: web.Request) -> web.Response:
    """Change a cabin's capacity (admin)."""
    return await _relay(request, "inventory",
                        f"/internal/admin/flights/{_param(request, 'flight_id')}/cabins/"
                        f"{_param(request, 'cabin')}", admin=True)


async def create_hotel(request: web.Request) -> web.Response:
    """Add a hotel (admin)."""
    return await _relay(request, "inventory", "/internal/admin/hotels", admin=True)


async def set_room_capacity(request: web.Request) -> web.Response:
    """Change a room type's capacity over nights (admin)."""
    return await _relay(request, "inventory",
                        f"/internal/admin/hotels/{_param(request, 'hotel_id')}/room-types/"
                        f"{_param(request, 'room_type')}/nights", admin=True)


async def list_holds(request: web.Request) -> web.Response:
    """List holds (admin)."""
    return await _relay(request, "inventory", "/internal/admin/holds", admin=True)


def _caller(request: web.Request) -> str:
    principal = valid(request).principal
    assert principal is not None  # the operation requires a token
    return principal.sub


async def create_hold(request: web.Request) -> web.Response:
    """Hold seats and rooms for the caller, within their limits."""
    customer, checked = _caller(request), valid(request)
    assert isinstance(checked.body, HoldRequest)
    return await request.app[hold_guard_key].create(
        customer, checked.body, checked.idempotency_key,
        lambda: _relay(request, "inventory", "/internal/holds", customer=customer))


async def hold(request: web.Request) -> web.Response:
    """Read or release the caller's hold."""
    customer, hold_id = _caller(request), _param(request, "hold_id")
    response = await _relay(request, "inventory", f"/internal/holds/{hold_id}",
                            customer=customer)
    if request.method == "DELETE" and response.status == 200:
        await request.app[hold_guard_key].released(customer, hold_id)
    return response


async def create_booking(request: web.Request) -> web.Response:
    """Start checkout; the checkout API's authorizer checks the token again."""
    return await _relay(request, "checkout", "/v1/bookings", forward_auth=True)


async def list_bookings(request: web.Request) -> web.Response:
    """List the caller's bookings."""
    return await _relay(request, "checkout", "/v1/bookings", forward_auth=True)


async def booking(request: web.Request) -> web.Response:
    """Read the caller's booking."""
    return await _relay(request, "checkout", f"/v1/bookings/{_param(request, 'booking_id')}",
                        forward_auth=True)


async def cancel_booking(request: web.Request) -> web.Response:
    """Cancel the caller's booking."""
    return await _relay(request, "checkout",
                        f"/v1/bookings/{_param(request, 'booking_id')}/cancel",
                        forward_auth=True)
