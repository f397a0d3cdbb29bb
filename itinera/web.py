"""aiohttp pieces every service uses: request ids, problem+json errors, JSON bodies, health."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import orjson
from aiohttp import web

from itinera.api.types import Contract
from itinera.api.validation import parse_body
from itinera.codings import decode_body
from itinera.errors import BadRequest, ItineraError, PayloadTooLarge
from itinera.logs import request_id_var, trace_header_var
from itinera.tracing import TRACE_HEADER, accepted_trace_header

log = logging.getLogger("itinera.web")
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")

REQUEST_ID_HEADER = "X-Request-Id"
# Inventory's internal API: the service credential, the caller the gateway verified, and the
# admin flag the gateway alone sets after checking the admin scope.
SERVICE_TOKEN_HEADER = "X-Service-Token"  # noqa: S105 - a header name
CUSTOMER_HEADER = "X-Customer-Id"
ADMIN_HEADER = "X-Admin"
# A client's key for a POST it may repeat (bookings require one, holds accept one).
IDEMPOTENCY_HEADER = "Idempotency-Key"
PROBLEM_JSON = "application/problem+json"
# Bodies are small JSON documents; anything bigger is refused before it is parsed.
MAX_BODY_BYTES = 64 * 1024

# Which task answered: the local ECS stand-in names each task (`gateway-az-a-3`); elsewhere
# the AZ alone. Read once: a task's identity does not change while it runs.
SERVED_BY_HEADER = "X-Served-By"
SERVED_BY = os.environ.get("ECS_TASK_NAME") or os.environ.get("AVAILABILITY_ZONE", "")
# Test-only fault hook, set by the local stack alone: while this file exists, /health answers
# 500, so tests can watch the load balancer take the task out and the scheduler replace it.
HEALTH_FAULT_FILE = os.environ.get("ITINERA_HEALTH_FAULT_FILE", "")

M = TypeVar("M", bound=Contract)
Check = Callable[[], Awaitable[None]]
READY_TIMEOUT_SECONDS = 2.0
checks_key = web.AppKey("readiness_checks", dict[str, Check])


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
                  ) -> web.Response:
    """Return *data* serialised with orjson."""
    return web.Response(body=orjson.dumps(data), status=status, headers=headers,
                        content_type="application/json")


def problem_response(err: ItineraError, instance: str | None = None) -> web.Response:
    """Return *err* as an RFC 9457 problem+json response, with the headers it names."""
    return web.Response(body=orjson.dumps(err.problem(instance)), status=err.status,
                        content_type=PROBLEM_JSON, headers=err.headers())


async def read_body(request: web.Request) -> bytes:
    """Read the body, decoded from its Content-Encoding; either form is at most MAX_BODY_BYTES."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"a body is at most {MAX_BODY_BYTES} bytes") from exc
    except web.RequestPayloadError as exc:  # a broken chunk, or the connection closed mid-body
        raise BadRequest("the request body could not be read") from exc
    return decode_body(raw, request.headers.getall("Content-Encoding", ()),
                       limit=MAX_BODY_BYTES)


async def read_model(model: type[M], request: web.Request) -> M:
    """Return the JSON body of *request*, decoded and within the limit, as *model*."""
    return parse_body(model, await read_body(request), request.headers.get("Content-Type"))


def request_id_of(headers: Mapping[str, str]) -> str:
    """Return the caller's X-Request-Id if it is a valid one, else a new id."""
    incoming = headers.get(REQUEST_ID_HEADER, "")
    # The same rule as the load balancers': 1 to 128 visible ASCII characters.
    return incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


@web.middleware
async def request_context_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Give every request an id, map errors to problem+json and log one line per request."""
    request_id = request_id_of(request.headers)
    token = request_id_var.set(request_id)
    # The ALB adds an X-Ray trace header on AWS; locally (or when it is missing) we make one.
    trace_token = trace_header_var.set(accepted_trace_header(request.headers.get(TRACE_HEADER)))
    started = time.perf_counter()
    try:
        try:
            response = await handler(request)
        except ItineraError as err:
            response = problem_response(err, request.path)
        except web.HTTPException as exc:
            response = http_exception_problem(exc, request.path)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("unhandled error", extra={"path": request.path})
            response = problem_response(ItineraError(), request.path)
        response.headers[REQUEST_ID_HEADER] = request_id
        if SERVED_BY:
            response.headers[SERVED_BY_HEADER] = SERVED_BY
        if request.path not in ("/health", "/ready"):
            log.info("request", extra={
                "method": request.method, "path": request.path, "status": response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            })
        return response
    finally:
        trace_header_var.reset(trace_token)
        request_id_var.reset(token)


def http_exception_problem(exc: web.HTTPException, instance: str) -> web.Response:
    """Return aiohttp's HTTP error *exc* as a problem, in its reason's words, not its text."""
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
             417: "expectation_failed"}
    err = ItineraError.answered(exc.status, codes.get(exc.status, "http_error"), exc.reason,
                                exc.reason)
    response = problem_response(err, instance)
    if exc.status == 405 and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


async def health(_: web.Request) -> web.Response:
    """Liveness: the process answers."""
    # One stat(2) of a local file, and only on the local stack: not worth a thread.
    if HEALTH_FAULT_FILE and os.path.exists(HEALTH_FAULT_FILE):  # noqa: ASYNC240
        return json_response({"status": "failing", "fault": "injected"}, status=500)
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: ping every dependency and report which failed."""
    checks = request.app.get(checks_key, {})
    results = await asyncio.gather(*(check_passes(n, c) for n, c in checks.items()))
    report = {name: "ok" if passed else "failed" for name, passed in zip(checks, results,
                                                                          strict=True)}
    ok = all(results)
    return json_response({"status": "ok" if ok else "unavailable", "checks": report},
                         status=200 if ok else 503)


async def check_passes(name: str, check: Check) -> bool:
    """Run one readiness check within its timeout; log why it failed, if it did."""
    try:
        await asyncio.wait_for(check(), timeout=READY_TIMEOUT_SECONDS)
    except Exception as exc:  # every failure is a report, not a crash
        # The reason goes to the log only: /ready is public, and an exception's text names
        # hosts, users and versions an attacker should not learn from it.
        log.warning("readiness check failed", extra={"check": name,
                                                      "error": f"{type(exc).__name__}: {exc}"})
        return False
    return True


def new_app(checks: dict[str, Check] | None = None,
            middlewares: list[Any] | None = None) -> web.Application:
    """Build an application with the shared middleware, health and readiness routes."""
    app = web.Application(middlewares=[request_context_middleware, *(middlewares or [])],
                          client_max_size=MAX_BODY_BYTES)
    app[checks_key] = checks or {}
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    return app
