"""The gateway counts each /v1 request, its 5xx answers and latency under its route."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.keys import route_metrics_key
from gateway.route_metrics import route_metrics_middleware
from itinera.errors import ItineraError, SoldOut
from itinera.metric_batch import MetricBatch
from itinera.web import json_response, new_app

SLOW_SECONDS = 0.05


async def ok(_: web.Request) -> web.Response:
    """Answer 200."""
    return json_response({"ok": True})


async def slow(_: web.Request) -> web.Response:
    """Answer 200 after at least SLOW_SECONDS."""
    await asyncio.sleep(SLOW_SECONDS)  # simulates: a handler that takes a known minimum time
    return json_response({"ok": True})


async def sold_out(_: web.Request) -> web.Response:
    """Raise a domain error answered 409."""
    raise SoldOut("none left")


async def broken(_: web.Request) -> web.Response:
    """Raise an unexpected error answered 500."""
    raise RuntimeError("bug")


async def failing(_: web.Request) -> web.Response:
    """Raise a domain error answered 502."""
    raise ItineraError.answered(502, "upstream", "upstream failed")


def app_and_output() -> tuple[web.Application, list[str]]:
    """A small app with the middleware, its metric lines captured in a list."""
    written: list[str] = []
    app = new_app(middlewares=[route_metrics_middleware])
    app[route_metrics_key] = MetricBatch(namespace="Itinera/Gateway", service="gateway",
                                         write=written.append)
    app.router.add_get("/v1/flights/{flight_id}", ok)
    app.router.add_post("/v1/holds", sold_out)
    app.router.add_post("/v1/bookings", broken)
    app.router.add_get("/v1/bookings", failing)
    app.router.add_get("/v1/slow", slow)
    return app, written


async def test_requests_errors_and_latency_are_counted_per_route_template() -> None:
    """Two flight reads share one route; 409 is no error; a crash and a 502 count as 5xx."""
    app, written = app_and_output()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for path in ("/v1/flights/1", "/v1/flights/2"):
            assert (await client.get(path)).status == 200
        assert (await client.post("/v1/holds")).status == 409
        assert (await client.post("/v1/bookings")).status == 500
        assert (await client.get("/v1/bookings")).status == 502
        assert (await client.get("/health")).status == 200
        assert (await client.get("/v1/nowhere")).status == 404
        app[route_metrics_key].flush()
    docs: list[dict[str, Any]] = [orjson.loads(line) for text in written
                                  for line in text.splitlines()]
    counts = {d["Route"]: (d["Requests"], d.get("ServerErrors", 0))
              for d in docs if "Requests" in d}
    assert counts == {"GET /v1/flights/{flight_id}": (2, 0), "POST /v1/holds": (1, 0),
                      "POST /v1/bookings": (1, 1), "GET /v1/bookings": (1, 1)}
    latencies = {d["Route"]: len(d["Latency"]) for d in docs if "Latency" in d}
    assert latencies["GET /v1/flights/{flight_id}"] == 2


async def test_latency_is_the_handlers_time_in_the_unit_the_line_declares() -> None:
    """A handler that takes at least 50 ms records a Latency of at least 50, declared as
    Milliseconds (a lower bound holds on any machine; seconds would read 0.05)."""
    app, written = app_and_output()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/v1/slow")).status == 200
        app[route_metrics_key].flush()
    (doc,) = [d for d in map(orjson.loads, "".join(written).splitlines()) if "Latency" in d]
    assert doc["Route"] == "GET /v1/slow"
    (declared,) = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    assert declared == {"Name": "Latency", "Unit": "Milliseconds"}
    (latency,) = doc["Latency"]
    assert latency >= SLOW_SECONDS * 1000
