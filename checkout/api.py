"""Lambda handler for the checkout HTTP API (API Gateway HTTP API, payload format 2.0)."""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

import orjson

from checkout.runtime import dependencies, run
from itinera.errors import BadRequest, ItineraError, NotFound, Unauthorized
from itinera.logs import configure_logging, request_id_var

configure_logging("checkout-api")
log = logging.getLogger("checkout.api")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route one HTTP API event to the checkout service and shape its answer."""
    request_id = (event.get("headers") or {}).get("x-request-id") or \
        event.get("requestContext", {}).get("requestId")
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    status = 500
    try:
        status, body = run(_dispatch(event))
        headers = {"content-type": "application/json"}
    except ItineraError as err:
        status, body = err.status, err.problem(event.get("rawPath"))
        headers = {"content-type": "application/problem+json"}
    except Exception:
        log.exception("unhandled error", extra={"route": event.get("routeKey")})
        internal = ItineraError()
        status, body = internal.status, internal.problem(event.get("rawPath"))
        headers = {"content-type": "application/problem+json"}
    finally:
        log.info("request", extra={"route": event.get("routeKey"), "status": status,
                                   "duration_ms": round((time.perf_counter() - started) * 1000,
                                                        2)})
        request_id_var.reset(token)
    if request_id:
        headers["x-request-id"] = request_id
    return {"statusCode": status, "headers": headers, "body": orjson.dumps(body).decode()}


def _customer(event: dict[str, Any]) -> str:
    claims = event.get("requestContext", {}).get("authorizer", {}).get("jwt", {}).get("claims")
    if not claims or not claims.get("sub"):
        raise Unauthorized("no verified caller")  # the JWT authorizer should have refused it
    return str(claims["sub"])


def _json_body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


async def _dispatch(event: dict[str, Any]) -> tuple[int, Any]:
    route = event.get("routeKey", "")
    customer = _customer(event)
    deps = await dependencies()
    params = event.get("pathParameters") or {}
    if route == "POST /v1/bookings":
        headers = event.get("headers") or {}
        stored = await deps.service.start_checkout(customer, headers.get("idempotency-key"),
                                                   _json_body(event))
        return stored.status, stored.body
    if route == "POST /v1/bookings/{booking_id}/cancel":
        return 202, await deps.service.cancel_booking(customer, params.get("booking_id", ""))
    if route == "GET /v1/bookings/{booking_id}":
        return 200, await deps.service.get_booking(customer, params.get("booking_id", ""))
    if route == "GET /v1/bookings":
        query = event.get("queryStringParameters") or {}
        unknown = set(query) - {"limit", "cursor"}
        if unknown:
            raise BadRequest(f"unknown query parameters: {', '.join(sorted(unknown))}")
        try:
            limit = int(query.get("limit", "20"))
        except ValueError as exc:
            raise BadRequest("limit must be an integer") from exc
        if not 1 <= limit <= 100:
            raise BadRequest("limit must be between 1 and 100")
        return 200, await deps.service.list_bookings(customer, limit=limit,
                                                     cursor=query.get("cursor"))
    raise NotFound(f"no route {route}")
