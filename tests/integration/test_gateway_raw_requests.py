"""Hostile bytes on a real socket: the gateway answers each with a problem, never a 500."""

from __future__ import annotations

import gzip
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from gateway.main import create_app
from gateway.settings import Settings
from itinera.auth import LocalIssuer
from itinera.limits.policies import DEFAULTS, parse_limits
from itinera.serving import MAX_REQUEST_LINE, SERVER, start_serving
from itinera.web import MAX_BODY_BYTES, PROBLEM_JSON
from tests.raw_http import Answer, exchange, request

REDIS_URL = "redis://127.0.0.1:6379/13"
SEARCH = "/v1/flights?origin=LHR&destination=JFK&date=2030-01-02"
HOLD = {"items": [{"kind": "flight", "flight_id": "7", "cabin": "economy", "quantity": 1}]}
HOLD_ID = "0123456789abcdef0123456789abcdef"


@dataclass
class Inventory:
    """A stand-in inventory: it records the bodies it got and answers like the real one."""

    bodies: list[Any] = field(default_factory=list)

    def app(self) -> web.Application:
        """Return its routes: search, create a hold, read a hold that does not exist."""
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/flights", self._search)
        app.router.add_post("/internal/holds", self._create)
        app.router.add_get("/internal/holds/{hold_id}", self._missing)
        return app

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _search(self, _: web.Request) -> web.Response:
        return web.json_response({"items": [], "next": None})

    async def _create(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.json_response({"hold_id": HOLD_ID}, status=201)

    async def _missing(self, request: web.Request) -> web.Response:
        problem = {"type": "https://itinera.dev/problems/not_found", "title": "Not found",
                   "status": 404, "code": "not_found", "detail": "no such hold",
                   "instance": request.path, "hold_id": request.match_info["hold_id"],
                   "request_id": request.headers["X-Request-Id"]}
        return web.Response(body=orjson.dumps(problem), status=404, content_type=PROBLEM_JSON)


@dataclass
class Gateway:
    """A real gateway on a socket, in front of the stand-in inventory."""

    port: int
    token: str
    inventory: Inventory


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    """Serve the gateway as its `__main__` does, with an unreachable checkout API."""
    issuer = LocalIssuer(tmp_path)
    issuer.ensure_keys()
    inventory = Inventory()
    upstream = await start_serving(inventory.app(), host="127.0.0.1", port=0)
    settings = Settings(
        inventory_url=f"http://127.0.0.1:{upstream.addresses[0][1]}",
        checkout_api_url="http://127.0.0.1:9", internal_token="t",
        jwks_path=str(issuer.jwks_path),
        redis_url=REDIS_URL,
        # Bytes, not budgets: every limit is off (tests/e2e/test_abuse_limits.py has them).
        limits=parse_limits(",".join(f"{p.name}=off" for p in DEFAULTS)))
    runner = await start_serving(create_app(settings), host="127.0.0.1", port=0)
    try:
        yield Gateway(port=runner.addresses[0][1], token=issuer.mint("alice"),
                      inventory=inventory)
    finally:
        await runner.cleanup()
        await upstream.cleanup()


def hold_request(gateway: Gateway, body: bytes, *headers: bytes) -> bytes:
    """Return a POST /v1/holds by alice with *body* and its headers."""
    return request("POST", "/v1/holds", f"Authorization: Bearer {gateway.token}".encode(),
                   b"Content-Type: application/json", *headers, body=body)


def assert_no_version(answer: Answer) -> None:
    """The Server header names the product only: no version for a scanner to look up."""
    assert answer.headers.get("Server") == SERVER
    assert "aiohttp" not in str(answer.headers) and "Python" not in str(answer.headers)


def assert_problem(answer: Answer, status: int, code: str) -> dict[str, Any]:
    """Check one problem answer and return its document."""
    assert answer.status == status, answer
    assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
    problem = answer.json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]
    assert answer.headers["X-Request-Id"] == problem["request_id"]
    assert_no_version(answer)
    return dict(problem)


async def test_a_non_ascii_bearer_on_search_is_no_token(gateway: Gateway) -> None:
    """Anonymous search with `Bearer \\xff` is served as if it had no token (was a 500)."""
    answer = await exchange(gateway.port, request("GET", SEARCH, b"Authorization: Bearer \xff"))
    assert answer.status == 200 and answer.json() == {"items": [], "next": None}
    assert_no_version(answer)


@pytest.mark.parametrize("token", [b"\xff", b"caf\xc3\xa9.a.b", b"a.b", b"a.b.c.d"],
                         ids=["latin1", "utf8", "two-segments", "four-segments"])
async def test_a_token_that_is_no_jws_is_a_401_on_holds(gateway: Gateway, token: bytes) -> None:
    """On a route that needs a token, bytes that are no compact JWS are a 401 problem that
    quotes nothing of them."""
    for raw in (request("GET", f"/v1/holds/{HOLD_ID}", b"Authorization: Bearer " + token),
                request("POST", "/v1/holds", b"Authorization: Bearer " + token,
                        b"Content-Type: application/json", body=orjson.dumps(HOLD))):
        problem = assert_problem(await exchange(gateway.port, raw), 401, "unauthorized")
        assert problem["detail"] == "the token is not a JWT"


@pytest.mark.parametrize("coding, packed", [
    (b"gzip", gzip.compress(orjson.dumps(HOLD))),
    (b"x-gzip", gzip.compress(orjson.dumps(HOLD))),
    (b"deflate", zlib.compress(orjson.dumps(HOLD))),
], ids=["gzip", "x-gzip", "deflate"])
async def test_compressed_hold_bodies_are_decoded(gateway: Gateway, coding: bytes,
                                                  packed: bytes) -> None:
    """A gzip or deflate JSON body reaches inventory as the JSON that was compressed."""
    answer = await exchange(gateway.port, hold_request(
        gateway, packed, b"Content-Encoding: " + coding))
    assert answer.status == 201 and answer.json() == {"hold_id": HOLD_ID}
    assert gateway.inventory.bodies == [HOLD]
    assert_no_version(answer)


async def test_a_coding_we_do_not_decode_is_a_415_with_accept_encoding(
        gateway: Gateway) -> None:
    """zstd (and any unknown or stacked coding) is refused, naming the codings accepted."""
    for coding in (b"zstd", b"snappy", b"gzip, gzip"):
        answer = await exchange(gateway.port, hold_request(
            gateway, b"(\xb5/\xfd\x00X\x11\x00\x00{}", b"Content-Encoding: " + coding))
        assert_problem(answer, 415, "unsupported_content_encoding")
        assert "gzip" in answer.headers["Accept-Encoding"]
        assert "deflate" in answer.headers["Accept-Encoding"]
    assert gateway.inventory.bodies == []


async def test_a_gzip_body_that_does_not_decode_is_a_400(gateway: Gateway) -> None:
    """Garbage labelled gzip is `invalid_content_encoding` (was aiohttp's 500)."""
    answer = await exchange(gateway.port, hold_request(
        gateway, b"\x1f\x8bnot really gzip", b"Content-Encoding: gzip"))
    assert_problem(answer, 400, "invalid_content_encoding")


async def test_a_zip_bomb_is_a_413(gateway: Gateway) -> None:
    """10 MB of zeros in 10 KB of gzip passes the size limit sent, not the one decoded."""
    bomb = gzip.compress(b" " * 10_000_000)
    assert len(bomb) < MAX_BODY_BYTES
    answer = await exchange(gateway.port, hold_request(gateway, bomb,
                                                       b"Content-Encoding: gzip"))
    assert_problem(answer, 413, "payload_too_large")
    assert gateway.inventory.bodies == []


@pytest.mark.parametrize("raw, status, code", [
    (request("POST", "/v1/holds", b"Content-Type: application/json",
             b"Content-Type: text/plain", body=b"{}"), 400, "bad_request"),
    (request("POST", "/v1/holds", b"Content-Length: 18446744073709551616"), 400,
     "bad_request"),
    (request("GET", SEARCH, b"X-Note: a\x00b"), 400, "bad_request"),
    (request("FOO", SEARCH), 400, "invalid_method"),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400, "invalid_method"),
    (request("POST", "/v1/holds", b"Transfer-Encoding: chunked") + b"zz\r\n{}\r\n0\r\n\r\n",
     400, "bad_request"),
    (request("GET", "/v1/flights?q=" + "a" * MAX_REQUEST_LINE), 414, "uri_too_long"),
    (request("GET", SEARCH, b"X-Long: " + b"a" * 9000), 431,
     "request_header_fields_too_large"),
    (request("GET", SEARCH, *(b"X-%d: a" % i for i in range(200))), 431,
     "request_header_fields_too_large"),
    (b"GET /v1/flights HTTP/9.9\r\nHost: gateway\r\n\r\n", 400, "bad_request"),
], ids=["duplicate-content-type", "content-length-2^64", "nul-in-header", "unknown-method",
        "tls-hello", "bad-chunk-size", "request-line-too-long", "header-too-long",
        "too-many-headers", "bad-version"])
async def test_what_the_parser_refuses_is_a_problem(gateway: Gateway, raw: bytes, status: int,
                                                    code: str) -> None:
    """aiohttp's own refusals come back as problem+json 4xx with a stable code, a request
    id and no Server version, and their detail quotes nothing the client sent."""
    problem = assert_problem(await exchange(gateway.port, raw), status, code)
    assert "instance" not in problem
    for sent in (b"text/plain", b"18446744073709551616", b"FOO", b"zz", b"aaaa", b"9.9"):
        assert sent.decode() not in problem["detail"]


async def test_an_expectation_other_than_100_continue_is_a_problem(gateway: Gateway) -> None:
    """aiohttp checks Expect before any middleware: its 417 is still a problem, with a
    request id, that quotes nothing the client sent."""
    answer = await exchange(gateway.port, request("GET", SEARCH, b"Expect: 999-nope"))
    problem = assert_problem(answer, 417, "expectation_failed")
    assert "999-nope" not in answer.body.decode()
    assert problem["instance"] == "/v1/flights"


async def test_an_upstream_problem_names_the_public_path(gateway: Gateway) -> None:
    """Inventory's 404 reaches the client with `instance` the path it asked for, not
    inventory's internal one; its code, detail and own fields stay."""
    answer = await exchange(gateway.port, request(
        "GET", f"/v1/holds/{HOLD_ID}", f"Authorization: Bearer {gateway.token}".encode()))
    problem = assert_problem(answer, 404, "not_found")
    assert problem["instance"] == f"/v1/holds/{HOLD_ID}"
    assert "/internal" not in answer.body.decode()
    assert (problem["detail"], problem["hold_id"]) == ("no such hold", HOLD_ID)


async def test_readiness_names_failed_checks_without_their_reasons(gateway: Gateway) -> None:
    """/ready says which dependency failed and nothing of why (no exception text)."""
    answer = await exchange(gateway.port, request(
        "GET", "/ready", f"X-Request-Id: {uuid.uuid4().hex}".encode()))
    assert answer.status == 503
    assert answer.json() == {"status": "unavailable",
                             "checks": {"inventory": "ok", "checkout": "failed"}}
    assert_no_version(answer)
