"""The local CloudFront, served as the stack serves it, in front of a fake load balancer."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from localaws.cloudfront import distribution
from localaws.cloudfront.edge import create_app, late_answer, viewer_error_headers
from localaws.cloudfront.model import Distribution, OriginTimeouts
from localaws.cloudfront.viewer import ViewerLimits, ViewerRunner
from localaws.template import load_sam, transform
from tests.integration.conftest import free_port

LIMITS = ViewerLimits(request_timeout=1.0, idle_timeout=2.0)
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "Strict-Transport-Security")


@dataclass
class Origin:
    """The fake load balancer: what it received, and how slow it is."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0


@dataclass
class Edge:
    """A running edge and its fake origin."""

    port: int
    origin: Origin


EdgeFactory = Callable[..., Awaitable[Edge]]


async def _origin_app(origin: Origin) -> web.Application:
    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        origin.received.append({"method": request.method, "body": body,
                                "headers": dict(request.headers)})
        await asyncio.sleep(origin.delay)  # simulates: a slow origin
        return web.json_response({"bytes": len(body)}, headers={"Server": "gateway/1.2.3",
                                                                "X-Frame-Options": "ALLOW"})

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", echo)
    return app


@pytest.fixture
async def edge() -> AsyncIterator[EdgeFactory]:
    """Start the edge (its viewer runner) and a fake gateway origin on free ports."""
    runners: list[web.BaseRunner] = []

    async def start(*, timeouts: OriginTimeouts | None = None) -> Edge:
        origin = Origin()
        # As the services do, the fake origin reads bodies as sent.
        origin_runner = web.AppRunner(await _origin_app(origin), auto_decompress=False)
        await origin_runner.setup()
        port = free_port()
        await web.TCPSite(origin_runner, "127.0.0.1", port).start()
        runners.append(origin_runner)
        origin.url = f"http://127.0.0.1:{port}"
        dist = _distribution(timeouts)
        app = create_app(dist, {"web": "s3://web", "gateway": origin.url}, limits=LIMITS)
        runner = ViewerRunner(app, limits=LIMITS, late_answer=late_answer(dist, LIMITS),
                              on_error=viewer_error_headers(dist))
        await runner.setup()
        edge_port = free_port()
        await web.TCPSite(runner, "127.0.0.1", edge_port).start()
        runners.append(runner)
        return Edge(port=edge_port, origin=origin)

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


def _distribution(timeouts: OriginTimeouts | None) -> Distribution:
    dist = distribution(transform(load_sam(), region="eu-west-1"))
    if timeouts is None:
        return dist
    behaviors = tuple(dataclasses.replace(b, origin=dataclasses.replace(b.origin,
                                                                        timeouts=timeouts))
                      if b.origin.kind == "alb" else b for b in dist.behaviors)
    return dataclasses.replace(dist, behaviors=behaviors)


async def _raw(port: int, data: bytes, *, drip: float = 0.0, within: float = 5.0
               ) -> tuple[bytes, float]:
    """Send *data* (a byte every *drip* s), return all that comes back and when it ended."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(reader.read())
    try:
        for i in range(0, len(data), 1 if drip else len(data) or 1):
            if answer.done():
                break  # the edge has answered (and closed): stop sending
            writer.write(data[i:i + 1] if drip else data)
            await asyncio.sleep(drip)  # simulates: a slow client dripping its bytes
        async with asyncio.timeout(within):
            return await answer, time.monotonic() - started
    finally:
        answer.cancel()
        writer.close()


def _parse(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


async def test_headers_that_drip_are_cut_with_a_408_problem(edge: EdgeFactory) -> None:
    """A client sending its headers a byte at a time gets a 408 problem once the request
    timeout (1 s here) passes, with the edge's security headers and no server version."""
    running = await edge()
    answer, took = await _raw(running.port, b"GET /v1/flights HTTP/1.1\r\nHost: x\r\n" * 3,
                              drip=0.2)
    status, headers, body = _parse(answer)
    assert status == 408 and took < 3, (answer[:200], took)
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "request_timeout"
    assert headers["server"] == "CloudFront"
    assert all(h.lower() in headers for h in SECURITY_HEADERS)
    assert running.origin.received == []


async def test_a_body_that_drips_is_cut_with_a_408_problem(edge: EdgeFactory) -> None:
    """Headers on time, then a body that stalls: 408 within the same deadline, origin
    untouched."""
    running = await edge()
    answer, took = await _raw(running.port, b"POST /v1/holds HTTP/1.1\r\nHost: x\r\n"
                                            b"Content-Length: 10\r\n\r\n{")
    status, headers, body = _parse(answer)
    # The answer comes at 1 s; the close once the rest of the body is dropped (2 s at most).
    assert status == 408 and took < 4.5
    assert json.loads(body)["code"] == "request_timeout"
    assert headers["x-frame-options"] == "DENY"
    assert running.origin.received == []


async def test_an_idle_keep_alive_connection_is_closed_quietly(edge: EdgeFactory) -> None:
    """After an answer, a connection that sends nothing more is closed at the idle timeout
    (2 s here) without another byte; one that never sends a byte at the request timeout."""
    running = await edge()
    request = b"GET /v1/flights HTTP/1.1\r\nHost: x\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", running.port)
    writer.write(request)
    started = time.monotonic()
    async with asyncio.timeout(6):
        answer = await reader.read()
    writer.close()
    status, _, _ = _parse(answer)
    assert status == 200 and answer.endswith(b'{"bytes": 0}')
    assert 1.5 < time.monotonic() - started < 5
    silent, took = await _raw(running.port, b"", within=6)
    assert silent == b"" and took < 5


async def test_a_gzipped_body_reaches_the_origin_as_sent(edge: EdgeFactory) -> None:
    """The viewer's bytes and their Content-Encoding go to the origin unchanged."""
    running = await edge()
    raw = gzip.compress(b'{"items": []}')
    async with aiohttp.ClientSession() as http, http.post(
            f"http://127.0.0.1:{running.port}/v1/holds", data=raw,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}) as resp:
        assert resp.status == 200
        assert (await resp.json())["bytes"] == len(raw)
    seen = running.origin.received[0]
    assert seen["body"] == raw and seen["headers"]["Content-Encoding"] == "gzip"


async def test_every_answer_carries_the_policy_and_no_server_version(
        edge: EdgeFactory) -> None:
    """The origin's answer, the edge's own 403 and aiohttp's answer to garbage all carry the
    template's security headers (overriding the origin's) and `Server: CloudFront`."""
    running = await edge()
    async with aiohttp.ClientSession() as http:
        for method, path in (("GET", "/v1/flights"), ("POST", "/index.html")):
            async with http.request(method, f"http://127.0.0.1:{running.port}{path}") as resp:
                assert resp.headers["Server"] == "CloudFront", path
                assert resp.headers["X-Frame-Options"] == "DENY", path
                assert all(h in resp.headers for h in SECURITY_HEADERS), path
                if resp.status >= 400:
                    assert resp.content_type == "application/problem+json"
    answer, _ = await _raw(running.port, b"NOT HTTP AT ALL\r\n\r\n")
    status, headers, _ = _parse(answer)
    assert status == 400 and headers["server"] == "CloudFront"
    assert all(h.lower() in headers for h in SECURITY_HEADERS)


async def test_expectations_are_dropped_and_unroutable_targets_are_problems(
        edge: EdgeFactory) -> None:
    """As CloudFront removes Expect, an unknown expectation is forwarded without it rather
    than refused; `OPTIONS *` (no path to route) is a 404 problem, not aiohttp's text."""
    running = await edge()
    answer, _ = await _raw(running.port, b"POST /v1/holds HTTP/1.1\r\nHost: x\r\n"
                                         b"Expect: 999-nope\r\nContent-Length: 2\r\n"
                                         b"Connection: close\r\n\r\n{}")
    assert _parse(answer)[0] == 200
    assert "Expect" not in running.origin.received[0]["headers"]
    answer, _ = await _raw(running.port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n"
                                         b"Connection: close\r\n\r\n")
    status, headers, body = _parse(answer)
    assert status == 404 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["code"] == "not_found"


async def test_origin_timeouts_and_attempts_follow_the_template(edge: EdgeFactory) -> None:
    """An origin slower than its read timeout gives a 504 problem; a GET is tried as many
    times as the origin's connection attempts, a POST once (it may have had effects)."""
    running = await edge(timeouts=OriginTimeouts(connection_timeout=1, connection_attempts=2,
                                                 read_timeout=0.3, keepalive_timeout=1))
    running.origin.delay = 1.0
    async with aiohttp.ClientSession() as http:
        for method, tries in (("GET", 2), ("POST", 1)):
            running.origin.received.clear()
            async with http.request(method, f"http://127.0.0.1:{running.port}/v1/x") as resp:
                assert resp.status == 504
                assert (await resp.json())["code"] == "gateway_timeout"
            assert len(running.origin.received) == tries, method
