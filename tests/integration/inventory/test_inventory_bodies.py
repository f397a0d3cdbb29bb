"""Inventory served as its `__main__` serves it: compressed and broken bodies are no 500."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import aiomysql
import pytest
import redis.asyncio as aioredis

from inventory.main import create_app
from itinera.serving import SERVER, start_serving

from .conftest import TOKEN, app_settings

HEADERS = {"X-Service-Token": TOKEN, "X-Customer-Id": "alice",
           "Content-Type": "application/json"}


@pytest.fixture
async def inventory(pool: aiomysql.Pool, redis: aioredis.Redis
                    ) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    """The real app on a socket, and a client that sends bodies exactly as given."""
    runner = await start_serving(create_app(app_settings()), host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}", http
    finally:
        await runner.cleanup()


async def test_a_gzip_hold_request_is_decoded(inventory: tuple[str, aiohttp.ClientSession],
                                              make_flight: Any) -> None:
    """A gzip body is decoded before it is parsed: the hold is made."""
    url, http = inventory
    flight_id = await make_flight()
    body = gzip.compress(b'{"items": [{"kind": "flight", "flight_id": "%d", "cabin": "economy",'
                         b' "quantity": 1}]}' % flight_id)
    async with http.post(f"{url}/internal/holds", data=body,
                         headers={**HEADERS, "Content-Encoding": "gzip"}) as resp:
        assert resp.status == 201, await resp.text()
        assert resp.headers["Server"] == SERVER


@pytest.mark.parametrize("coding, body, status, code", [
    ("zstd", b"(\xb5/\xfd\x00X\x11\x00\x00{}", 415, "unsupported_content_encoding"),
    ("gzip", b"\x1f\x8bnot gzip", 400, "invalid_content_encoding"),
    ("deflate", gzip.compress(b" " * 10_000_000), 400, "invalid_content_encoding"),
    ("gzip", gzip.compress(b" " * 10_000_000), 413, "payload_too_large"),
], ids=["zstd", "garbage-gzip", "gzip-labelled-deflate", "zip-bomb"])
async def test_bodies_it_cannot_use_are_problems(inventory: tuple[str, aiohttp.ClientSession],
                                                 coding: str, body: bytes, status: int,
                                                 code: str) -> None:
    """Unknown codings, bad data and bombs are 4xx problems with their codes."""
    url, http = inventory
    async with http.post(f"{url}/internal/holds", data=body,
                         headers={**HEADERS, "Content-Encoding": coding}) as resp:
        assert resp.status == status
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["code"] == code


async def test_readiness_hides_why_a_check_failed(pool: aiomysql.Pool,
                                                  redis: aioredis.Redis) -> None:
    """With Redis unreachable, /ready says `degraded` and nothing of the error."""
    runner = await start_serving(create_app(app_settings(redis_url="redis://127.0.0.1:1/15")),
                                 host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession() as http, \
                http.get(f"http://127.0.0.1:{runner.addresses[0][1]}/ready") as resp:
            body = await resp.json()
    finally:
        await runner.cleanup()
    assert resp.status == 200 and body["checks"] == {"mysql": "ok", "redis": "degraded"}
    assert "Error" not in str(body) and "127.0.0.1" not in str(body)
