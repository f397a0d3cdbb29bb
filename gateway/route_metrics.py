"""Requests, 5xx answers and latency per public route, for the Booking SLO dashboard."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.keys import route_metrics_key
from itinera.errors import ItineraError
from itinera.metric_batch import MetricBatch, elapsed_ms

NAMESPACE = "Itinera/Gateway"


def new_batch() -> MetricBatch:
    """Return the batch the route metrics gather in."""
    return MetricBatch(namespace=NAMESPACE, service="gateway")


def _status(exc: BaseException) -> int:
    if isinstance(exc, ItineraError | web.HTTPException):
        return exc.status
    return 500


@web.middleware
async def route_metrics_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count each /v1 request, its 5xx answers and its latency under `METHOD /path/{param}`."""
    resource = request.match_info.route.resource
    # Only the routes the API declares: unmatched paths would make one series per URL.
    if resource is None or not resource.canonical.startswith("/v1/"):
        return await handler(request)
    route = f"{request.method} {resource.canonical}"
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except asyncio.CancelledError:
        status = 0  # the client left; not an answer the SLO counts
        raise
    except BaseException as exc:
        status = _status(exc)
        raise
    finally:
        if status:
            batch = request.app[route_metrics_key]
            batch.count("Requests", Route=route)
            if status >= 500:
                batch.count("ServerErrors", Route=route)
            batch.time("Latency", elapsed_ms(started), Route=route)
