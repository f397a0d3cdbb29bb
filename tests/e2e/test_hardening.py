"""The adversarial run's findings, each replayed against the whole stack through its entry."""

from __future__ import annotations

import asyncio
import gzip
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson
import pytest
from yarl import URL

from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import (
    auth,
    book,
    find_flight,
    hold_seats,
    wait_healthy,
    wait_status,
)
from tests.raw_http import exchange, request

GOOD_CARD = "4242424242424242"
PROBLEM = "application/problem+json"
# What a problem's detail must never reveal: where the services live.
INTERNALS = ("127.0.0.1", "http://", "/internal", "localhost")


async def problem(resp: aiohttp.ClientResponse, status: int) -> dict[str, Any]:
    """Assert *resp* is a problem+json of *status* with the fields every problem has."""
    assert resp.status == status, await resp.text()
    assert resp.headers["Content-Type"].startswith(PROBLEM)
    body = dict(await resp.json(content_type=None))
    assert {"type", "title", "status", "code", "detail", "request_id"} <= set(body), body
    assert body["request_id"] == resp.headers["X-Request-Id"]
    assert not any(marker in body["detail"] for marker in INTERNALS), body
    return body


async def test_encoded_slashes_in_ids_reach_nothing_upstream(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 1: `..%2F` in a path id no longer turns a public route into an internal one;
    a hold, the internal stats and another route all answer 404 problems, without a token."""
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, stack.token("alice"), flight["id"], 1)
    for path in (f"/v1/flights/..%2F..%2Finternal%2Fholds%2F{hold['id']}",
                 "/v1/flights/..%2F..%2Finternal%2Fstats",
                 f"/v1/holds/..%2F..%2Fv1%2Fflights%2F{flight['id']}",
                 f"/v1/hotels/%2E%2E%2F%2E%2E%2Finternal%2Fholds%2F{hold['id']}"):
        async with http.get(URL(stack.url + path, encoded=True)) as resp:
            body = await problem(resp, 404)
            assert not {"customer_id", "items", "search_cache"} & set(body), body


@pytest.mark.parametrize("sub", ["alice ", " alice", "alice\t", "ali\r\nce", "ali\x00ce"])
async def test_a_subject_that_only_looks_like_alice_gets_nothing(
        stack: RunningStack, http: aiohttp.ClientSession, sub: str) -> None:
    """Finding 2: a token whose subject is alice with spaces, tabs, CR/LF or NUL is refused
    (401) on holds and bookings; it neither acts as alice nor causes a 500."""
    token = stack.token(sub)
    item = {"kind": "flight", "flight_id": "1", "cabin": "economy", "quantity": 1}
    async with http.post(f"{stack.url}/v1/holds", headers=auth(token),
                         json={"items": [item]}) as resp:
        assert (await problem(resp, 401))["code"] == "unauthorized"
    async with http.get(f"{stack.url}/v1/bookings", headers=auth(token)) as resp:
        await problem(resp, 401)


async def test_a_booking_body_that_is_not_utf8_is_a_400(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 3: invalid UTF-8 is a 400 at the gateway and at the checkout API behind it."""
    token = stack.token("ken")
    headers = {**auth(token), "Idempotency-Key": uuid.uuid4().hex,
               "Content-Type": "application/json"}
    raw = b'{"hold_id": "\xff\xfe", "payment": {}}'
    # The checkout API is a REST API: its routes sit under its stage, /live.
    for base in (stack.url, f"http://127.0.0.1:{stack.config.checkout_api_port}/live"):
        async with http.post(f"{base}/v1/bookings", headers=headers, data=raw) as resp:
            assert resp.status == 400, await resp.text()
            assert (await resp.json(content_type=None))["code"] == "bad_request"


async def test_odd_booking_ids_are_problems(stack: RunningStack,
                                            http: aiohttp.ClientSession) -> None:
    """Finding 5: ids that cannot be bookings get a 404 problem, never a platform message."""
    token = stack.token("leo")
    for booking_id in ("abc", "a" * 31, "A" * 32, "a" * 33, "..%2Fbookings"):
        async with http.get(URL(f"{stack.url}/v1/bookings/{booking_id}", encoded=True),
                            headers=auth(token)) as resp:
            assert (await problem(resp, 404))["code"] == "not_found"
        async with http.post(URL(f"{stack.url}/v1/bookings/{booking_id}/cancel", encoded=True),
                             headers=auth(token)) as resp:
            await problem(resp, 404)


async def test_a_body_over_the_limit_is_a_413_problem(stack: RunningStack,
                                                      http: aiohttp.ClientSession) -> None:
    """Finding 5: a body over 64 KiB is refused with a 413 problem, not plain text."""
    async with http.post(f"{stack.url}/v1/holds", headers={
            **auth(stack.token("mia")), "Content-Type": "application/json"},
            data=b'{"items": [' + b" " * 100_000 + b"]}") as resp:
        assert (await problem(resp, 413))["code"] == "payload_too_large"


async def test_a_text_plain_body_creates_no_hold(stack: RunningStack,
                                                 http: aiohttp.ClientSession) -> None:
    """Finding 6: a JSON body sent as text/plain is 415 and holds nothing."""
    flight = await find_flight(http, stack.url, seats=1)
    token = stack.token("nina")
    body = orjson.dumps({"items": [{"kind": "flight", "flight_id": flight["id"],
                                    "cabin": "economy", "quantity": 1}]})
    async with http.post(f"{stack.url}/v1/holds", data=body, headers={
            **auth(token), "Content-Type": "text/plain"}) as resp:
        assert (await problem(resp, 415))["code"] == "unsupported_media_type"
    async with http.get(f"{stack.url}/v1/flights/{flight['id']}") as resp:
        cabins = {c["cabin"]: c["available"] for c in (await resp.json())["cabins"]}
    assert cabins["economy"] == flight["available"]


async def test_a_body_trickling_in_is_cut_off(stack: RunningStack) -> None:
    """Finding 7: a body sent a byte at a time loses its connection with a 408 problem
    within the body timeout, instead of holding a handler for minutes."""
    tasks = stack.stack.scheduler.snapshot()["gateway"]["tasks"]
    port = next(t["port"] for t in tasks.values() if t["state"] == "RUNNING")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    token = stack.token("olga")
    writer.write((f"POST /v1/holds HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                  "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{").encode())
    await writer.drain()
    started = time.monotonic()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 408"), head
    assert PROBLEM.encode() in head
    assert time.monotonic() - started < 15


async def test_a_booking_during_an_inventory_outage_is_a_503_to_retry(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 5: with inventory unreachable, a booking answers 503 `dependency_unavailable`
    with Retry-After and a detail that names no internal address."""
    token = stack.token("quinn")
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    # Inventory scaled to zero: its load balancer has no target left. (Frozen tasks would
    # not do: they fail their health checks and ECS replaces them within seconds.)
    stack.set_desired_count("inventory", 0)
    try:
        await wait_status(http, f"http://127.0.0.1:{stack.config.inventory_port}/health", 503)
        status, body = await book(http, stack.url, token, hold["id"], GOOD_CARD)
    finally:
        stack.set_desired_count("inventory", 2)
        await wait_healthy(http, f"http://127.0.0.1:{stack.config.inventory_port}/health")
    assert status == 503, body
    assert body["code"] == "dependency_unavailable"
    assert int(body["retry_after"]) >= 1
    assert not any(marker in body["detail"] for marker in INTERNALS), body


async def test_lower_case_bearer_and_a_hash_in_a_query_value(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 8: `bearer` in lower case is accepted; `%23` stays part of its value."""
    async with http.get(f"{stack.url}/v1/bookings",
                        headers={"Authorization": f"bearer {stack.token('rosa')}"}) as resp:
        assert resp.status == 200
    day = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    later = (datetime.now(UTC).date() + timedelta(days=4)).isoformat()
    url = (f"{stack.url}/v1/hotels?city=London%23Soho&check_in={day}&check_out={later}")
    async with http.get(URL(url, encoded=True)) as resp:
        body = await problem(resp, 422)
    assert body["code"] == "unknown_city" and "London#Soho" in body["detail"]


async def test_a_token_expired_ten_seconds_ago_is_refused(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 8: the leeway is 5 seconds, so a token 10 seconds past expiry is 401."""
    token = stack.token("ruth", ttl=-10)
    async with http.get(f"{stack.url}/v1/bookings", headers=auth(token)) as resp:
        await problem(resp, 401)


async def test_a_hold_repeated_with_its_key_is_the_same_hold(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 5: a POST that carries an Idempotency-Key can be repeated safely (by a client,
    or by the load balancer when a task died mid-request): one hold, answered twice."""
    flight = await find_flight(http, stack.url, seats=1)
    headers = {**auth(stack.token("sam")), "Idempotency-Key": uuid.uuid4().hex}
    body = {"items": [{"kind": "flight", "flight_id": flight["id"], "cabin": "economy",
                       "quantity": 1}]}
    answers = []
    for _ in range(2):
        async with http.post(f"{stack.url}/v1/holds", headers=headers, json=body) as resp:
            assert resp.status == 201, await resp.text()
            answers.append((dict(await resp.json()), resp.headers.get("Idempotent-Replayed")))
    (first, replayed_first), (second, replayed_second) = answers
    assert first["id"] == second["id"] and (replayed_first, replayed_second) == (None, "true")
    async with http.get(f"{stack.url}/v1/flights/{flight['id']}") as resp:
        cabins = {c["cabin"]: c["available"] for c in (await resp.json())["cabins"]}
    assert cabins["economy"] == flight["available"] - 1


def gateway_task_port(stack: RunningStack) -> int:
    """Return a running gateway task's own port, behind the load balancer."""
    tasks = stack.stack.scheduler.snapshot()["gateway"]["tasks"]
    return int(next(t["port"] for t in tasks.values() if t["state"] == "RUNNING"))


async def test_a_non_ascii_bearer_is_no_token_on_search_and_a_401_on_holds(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 9: `Bearer \\xff` through the entry was a 500 on every route; search now
    answers as if no token came, a hold is a 401 problem in our words."""
    flight = await find_flight(http, stack.url, seats=1)
    search = (f"/v1/flights?origin={flight['origin']}&destination={flight['destination']}"
              f"&date={flight['departure_local'][:10]}")
    port = stack.config.gateway_port
    found = await exchange(port, request("GET", search, b"Authorization: Bearer \xff"))
    assert found.status == 200 and found.json()["items"]
    refused = await exchange(port, request(
        "POST", "/v1/holds", b"Authorization: Bearer \xff", b"Content-Type: application/json",
        body=b'{"items": []}'))
    assert refused.status == 401 and refused.json()["detail"] == "the token is not a JWT"


async def test_a_gzip_hold_is_held_and_zstd_is_a_415(stack: RunningStack,
                                                     http: aiohttp.ClientSession) -> None:
    """Finding 9: a gzip body was a 500; it now holds the seats. zstd is a 415 problem naming
    the codings accepted; a bomb is a 413."""
    flight = await find_flight(http, stack.url, seats=1)
    body = orjson.dumps({"items": [{"kind": "flight", "flight_id": flight["id"],
                                    "cabin": "economy", "quantity": 1}]})
    headers = {**auth(stack.token("tom")), "Content-Type": "application/json"}
    async with http.post(f"{stack.url}/v1/holds", data=gzip.compress(body),
                         headers={**headers, "Content-Encoding": "gzip"}) as resp:
        assert resp.status == 201, await resp.text()
    async with http.post(f"{stack.url}/v1/holds", data=body,
                         headers={**headers, "Content-Encoding": "zstd"}) as resp:
        assert (await problem(resp, 415))["code"] == "unsupported_content_encoding"
        assert "gzip" in resp.headers["Accept-Encoding"]
    async with http.post(f"{stack.url}/v1/holds", data=gzip.compress(b" " * 10_000_000),
                         headers={**headers, "Content-Encoding": "gzip"}) as resp:
        assert (await problem(resp, 413))["code"] == "payload_too_large"


async def test_a_hold_problem_names_the_public_path(stack: RunningStack,
                                                    http: aiohttp.ClientSession) -> None:
    """Finding 9: inventory's problems reached the client naming /internal/holds/<id>."""
    hold_id = uuid.uuid4().hex
    async with http.get(f"{stack.url}/v1/holds/{hold_id}",
                        headers=auth(stack.token("uma"))) as resp:
        body = await problem(resp, 404)
    assert body["instance"] == f"/v1/holds/{hold_id}"


async def test_what_a_task_cannot_parse_is_a_problem_without_versions(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Finding 9: aiohttp's text/plain 400 echoed the request line, and every answer said
    `Server: Python/3.11 aiohttp/...`. A task now answers problems with codes; no service
    of the stack names a version."""
    port = gateway_task_port(stack)
    for raw, status, code in (
            (request("POST", "/v1/holds", b"Content-Type: application/json",
                     b"Content-Type: text/plain", body=b"{}"), 400, "bad_request"),
            (request("GET", "/v1/flights", b"Content-Length: 18446744073709551616"), 400,
             "bad_request"),
            (request("FOO", "/v1/flights"), 400, "invalid_method"),
            (request("GET", "/v1/flights?q=" + "a" * 9000), 414, "uri_too_long")):
        answer = await exchange(port, raw)
        assert (answer.status, answer.json()["code"]) == (status, code)
        assert answer.headers["Content-Type"].startswith(PROBLEM) and answer.headers["X-Request-Id"]
        assert answer.headers["Server"] == "itinera"
    for url in (f"{stack.url}/ready", f"{stack.url}/v1/nothing",
                f"http://127.0.0.1:{stack.config.inventory_port}/health",
                f"http://127.0.0.1:{stack.config.checkout_api_port}/live/v1/bookings",
                f"http://127.0.0.1:{stack.config.cloudfront_port}/"):
        async with http.get(url) as resp:
            server = resp.headers.get("Server", "")
            assert "aiohttp" not in server and not any(c.isdigit() for c in server), (url, server)
