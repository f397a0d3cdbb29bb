"""Lambda handler for the checkout API: a private REST API (payload 1.0) on AWS.

Events are read in payload 2.0's terms; a 1.0 event (REST API) is put in them first, so the
handler also serves an HTTP API.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import orjson

from checkout.runtime import dependencies, run
from itinera.api.bookings import BookingList, BookingRequest, idempotency_key
from itinera.api.validation import parse_body, parse_object
from itinera.auth import canonical_subject
from itinera.errors import BadRequest, ItineraError, NotFound, Unauthorized
from itinera.logs import configure_logging, request_id_var, trace_header_var
from itinera.tracing import accepted_trace_header

configure_logging("checkout-api")
log = logging.getLogger("checkout.api")


def as_payload_2(event: dict[str, Any]) -> dict[str, Any]:
    """Return a REST API (payload 1.0) event as the payload 2.0 fields this handler reads."""
    if "httpMethod" not in event:
        return event
    headers: dict[str, str] = {}
    for name, values in (event.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ",".join(values)
    for name, value in (event.get("headers") or {}).items():
        headers.setdefault(name.lower(), value)
    # Repeated query parameters are joined with commas, as payload 2.0 does.
    query = {k: ",".join(v) for k, v in
             (event.get("multiValueQueryStringParameters") or {}).items()}
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims")
    route = f"{event.get('httpMethod')} {event.get('resource')}"
    converted: dict[str, Any] = {
        "routeKey": route, "rawPath": event.get("path"), "headers": headers,
        "pathParameters": event.get("pathParameters") or {},
        "body": event.get("body"), "isBase64Encoded": bool(event.get("isBase64Encoded")),
        "requestContext": {"requestId": context.get("requestId"), "routeKey": route}}
    if query:
        converted["queryStringParameters"] = query
    if claims is not None:
        converted["requestContext"]["authorizer"] = {"jwt": {"claims": claims}}
    return converted


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route one API event to the checkout service and shape its answer."""
    event = as_payload_2(event)
    headers_in = event.get("headers") or {}
    request_id = headers_in.get("x-request-id") or \
        event.get("requestContext", {}).get("requestId")
    token = request_id_var.set(request_id)
    # API Gateway passes the caller's X-Ray header on; the worker's queue carries it further.
    trace_token = trace_header_var.set(accepted_trace_header(headers_in.get("x-amzn-trace-id")))
    started = time.perf_counter()
    status = 500
    try:
        status, body = run(_dispatch(event))
        headers = {"content-type": "application/json"}
    except ItineraError as err:
        status, body = err.status, err.problem(event.get("rawPath"))
        headers = {"content-type": "application/problem+json"}
        if "retry_after" in err.extra:
            headers["retry-after"] = str(err.extra["retry_after"])
    except Exception:
        log.exception("unhandled error", extra={"route": event.get("routeKey")})
        internal = ItineraError()
        status, body = internal.status, internal.problem(event.get("rawPath"))
        headers = {"content-type": "application/problem+json"}
    finally:
        log.info("request", extra={"route": event.get("routeKey"), "status": status,
                                   "duration_ms": round((time.perf_counter() - started) * 1000,
                                                        2)})
        trace_header_var.reset(trace_token)
        request_id_var.reset(token)
    if request_id:
        headers["x-request-id"] = request_id
    return {"statusCode": status, "headers": headers, "body": orjson.dumps(body).decode()}


def _customer(event: dict[str, Any]) -> str:
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    if not claims or not claims.get("sub"):
        raise Unauthorized("no verified caller")  # the JWT authorizer should have refused it
    # API Gateway's authorizer checks signature and claims, not the subject's shape.
    return canonical_subject(claims["sub"])


def _raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except ValueError as exc:
            raise BadRequest("the body is not valid base64") from exc
    return str(body).encode()


async def _dispatch(event: dict[str, Any]) -> tuple[int, Any]:
    route = event.get("routeKey", "")
    customer = _customer(event)
    deps = await dependencies()
    params = event.get("pathParameters") or {}
    if route == "POST /v1/bookings":
        headers = event.get("headers") or {}
        key = idempotency_key(headers.get("idempotency-key"))
        request = parse_body(BookingRequest, _raw_body(event), headers.get("content-type"))
        stored = await deps.service.start_checkout(customer, key, request)
        return stored.status, stored.body
    if route == "POST /v1/bookings/{booking_id}/cancel":
        return 202, await deps.service.cancel_booking(customer, params.get("booking_id", ""))
    if route == "GET /v1/bookings/{booking_id}":
        return 200, await deps.service.get_booking(customer, params.get("booking_id", ""))
    if route == "GET /v1/bookings":
        # API Gateway joins a repeated parameter's values with commas.
        listing = parse_object(BookingList, event.get("queryStringParameters") or {},
                               where="query parameter")
        return 200, await deps.service.list_bookings(customer, limit=listing.limit,
                                                     cursor=listing.cursor)
    raise NotFound(f"no route {route}")
