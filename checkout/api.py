"""The checkout API Lambda, behind a private REST API (payload 1.0): one route per operation."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from checkout.resolver import EnvironmentResolver, new_resolver, route_key
from checkout.runtime import dependencies, run
from itinera.api.bookings import BookingList, BookingRequest, idempotency_key
from itinera.api.validation import parse_body, parse_object
from itinera.auth import canonical_subject
from itinera.errors import BadRequest, Unauthorized
from itinera.logs import configure_logging, request_id_var, trace_header_var
from itinera.routes import Route
from itinera.tracing import accepted_trace_header

configure_logging("checkout-api")
log = logging.getLogger("checkout.api")


async def create_booking(request: Request) -> tuple[Any, int]:
    """Start checkout for the caller's hold, once per Idempotency-Key."""
    event = _event(request)
    customer, deps = _customer(event), await dependencies()
    headers = joined_headers(event.raw_event)
    key = idempotency_key(headers.get("idempotency-key"))
    booking = parse_body(BookingRequest, _raw_body(event), headers.get("content-type"))
    stored = await deps.service.start_checkout(customer, key, booking)
    return stored.body, stored.status


async def list_bookings(request: Request) -> tuple[Any, int]:
    """Return a page of the caller's bookings."""
    event = _event(request)
    customer, deps = _customer(event), await dependencies()
    # A repeated parameter's values are joined with commas, so `limit=1&limit=2` is refused.
    query = {name: ",".join(values)
             for name, values in event.multi_value_query_string_parameters.items()}
    listing = parse_object(BookingList, query, where="query parameter")
    return await deps.service.list_bookings(customer, limit=listing.limit,
                                            cursor=listing.cursor), 200


async def get_booking(booking_id: str, request: Request) -> tuple[Any, int]:
    """Return one of the caller's bookings."""
    customer, deps = _customer(_event(request)), await dependencies()
    return await deps.service.get_booking(customer, booking_id), 200


async def cancel_booking(booking_id: str, request: Request) -> tuple[Any, int]:
    """Start cancelling one of the caller's bookings."""
    customer, deps = _customer(_event(request)), await dependencies()
    return await deps.service.cancel_booking(customer, booking_id), 202


# The operations, as the template's API events declare them (infra/sam/checkout.yaml). Each is
# a traveller's: the stage's Cognito authorizer (scope itinera/traveller) admits the caller, and
# each handler reads who it is from the claims.
ROUTES: list[Route[Callable[..., Awaitable[tuple[Any, int]]]]] = [
    Route(method="POST", path="/v1/bookings", handler=create_booking),
    Route(method="GET", path="/v1/bookings", handler=list_bookings),
    Route(method="GET", path="/v1/bookings/{booking_id}", handler=get_booking),
    Route(method="POST", path="/v1/bookings/{booking_id}/cancel", handler=cancel_booking),
]
# One resolver per execution environment (see EnvironmentResolver), built on its first call.
_environment = threading.local()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway event, with its request id, and log one line for it."""
    headers = joined_headers(event)
    request_id = headers.get("x-request-id") or (event.get("requestContext") or {}).get(
        "requestId")
    token = request_id_var.set(request_id)
    # API Gateway passes the caller's X-Ray header on; the worker's queue carries it further.
    trace_token = trace_header_var.set(accepted_trace_header(headers.get("x-amzn-trace-id")))
    started = time.perf_counter()
    status = 500
    try:
        answer = run(_resolver().resolve_async(event, context))
        status = answer["statusCode"]
    finally:
        log.info("request", extra={"route": route_key(event), "status": status,
                                   "duration_ms": round((time.perf_counter() - started) * 1000,
                                                        2)})
        trace_header_var.reset(trace_token)
        request_id_var.reset(token)
    if request_id:
        answer["multiValueHeaders"]["X-Request-Id"] = [request_id]
    return answer


def joined_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """Return a REST API event's headers by lower-case name, repeated values joined."""
    # The single-value `headers` keep only the last of a repeated header: joined instead, a
    # repeated Idempotency-Key fails validation rather than one of its values being used.
    headers = {name.lower(): ",".join(values)
               for name, values in (event.get("multiValueHeaders") or {}).items()}
    for name, value in (event.get("headers") or {}).items():
        headers.setdefault(name.lower(), value)
    return headers


def _resolver() -> EnvironmentResolver:
    resolver: EnvironmentResolver | None = getattr(_environment, "resolver", None)
    if resolver is None:
        resolver = _environment.resolver = new_resolver(ROUTES)
    return resolver


def _event(request: Request) -> APIGatewayProxyEvent:
    # The REST API resolver reads every event as payload 1.0.
    return cast(APIGatewayProxyEvent, request.resolved_event)


def _customer(event: APIGatewayProxyEvent) -> str:
    claims = event.request_context.authorizer.claims
    if not claims.get("sub"):
        raise Unauthorized("no verified caller")  # the authorizer should have refused it
    # API Gateway's authorizer checks signature and claims, not the subject's shape.
    return canonical_subject(claims["sub"])


def _raw_body(event: APIGatewayProxyEvent) -> bytes:
    body = event.body or ""
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise BadRequest("the body is not valid base64") from exc
    return body.encode()
