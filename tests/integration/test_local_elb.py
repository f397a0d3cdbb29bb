"""HAProxy, configured from the template, balances, fails over and fails open as an ALB does."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import uuid
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from localaws.elb import status
from localaws.elb.haproxy import FAIL_OPEN_SUFFIX, Target, fail_open_args, server_args
from localaws.elb.runner import haproxy_version, parser_answers_from_error_files
from tests.integration.conftest import BalancerFactory, FakeTask, RunningBalancer
from tests.waiting import eventually


async def _call(lb: RunningBalancer, method: str = "GET", path: str = "/work", *,
                headers: dict[str, str] | None = None, data: bytes = b""
                ) -> tuple[int, CIMultiDict[str], Any]:
    payload = io.BytesIO(data) if data else None  # aiohttp warns about large raw bytes
    async with aiohttp.ClientSession() as http, http.request(
            method, lb.url + path, headers=headers, data=payload) as resp:
        body = await resp.read()
        if resp.content_type in ("application/json", "application/problem+json"):
            return resp.status, CIMultiDict(resp.headers), json.loads(body)
        return resp.status, CIMultiDict(resp.headers), body


def _assert_problem(status: int, headers: CIMultiDict[str], body: Any, *, expected: int,
                    code: str) -> None:
    assert status == expected, body
    assert headers["Content-Type"] == "application/problem+json"
    assert body["status"] == expected and body["code"] == code
    assert body["type"] == f"https://itinera.dev/problems/{code}"
    assert body["title"] and body["detail"]
    assert body["request_id"] == headers["X-Request-Id"]


async def test_requests_take_turns_across_azs_with_alb_headers(
        balancer: BalancerFactory) -> None:
    """Round robin alternates az-a and az-b; targets get the request id and X-Forwarded-*."""
    lb = await balancer()
    answers = [await _call(lb, headers={"X-Request-Id": "trip-42",
                                        "X-Forwarded-For": "203.0.113.9"}) for _ in range(6)]
    served = [body["az"] for _, _, body in answers]
    assert set(served) == {"az-a", "az-b"}
    assert all(x != y for x, y in itertools.pairwise(served)), served
    status_code, headers, body = answers[0]
    assert status_code == 200 and headers["X-Request-Id"] == "trip-42"
    seen = body["headers"]
    assert seen["x-request-id"] == "trip-42"
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"


async def test_an_unacceptable_request_id_is_replaced(balancer: BalancerFactory) -> None:
    """An id with spaces or over 128 characters gives way to a fresh UUID, sent both ways."""
    lb = await balancer()
    for sent in ("has space", "x" * 129, None):
        _, headers, body = await _call(lb, headers={"X-Request-Id": sent} if sent else None)
        assert str(uuid.UUID(headers["X-Request-Id"])) == headers["X-Request-Id"]
        assert body["headers"]["x-request-id"] == headers["X-Request-Id"]


async def test_a_failing_target_leaves_after_the_unhealthy_threshold_and_comes_back(
        balancer: BalancerFactory) -> None:
    """A target failing its checks is taken out and az-b serves everything; passing again, it
    comes back. (The thresholds themselves are the configuration's, checked in the unit tests:
    HAProxy counts failures since the last pass, not in a row, so timing them here would
    depend on checks made before the test began.)"""
    lb = await balancer()
    a = lb.tasks[0]
    a.healthy = False
    await eventually(lambda: lb.server_state("gateway-az-a") == "stopped", within=8,
                     what="az-a marked down")
    assert {(await _call(lb))[2]["az"] for _ in range(4)} == {"az-b"}
    health = {t["server"]: t["health"] for t in status(lb.state_dir)["gateway"]["targets"]}
    assert health == {"gateway-az-a": "unhealthy", "gateway-az-b": "healthy"}

    a.healthy = True
    await eventually(lambda: lb.server_state("gateway-az-a") == "running", within=8,
                     what="az-a back up")
    assert {(await _call(lb))[2]["az"] for _ in range(4)} == {"az-a", "az-b"}


async def test_with_every_target_unhealthy_it_fails_open_to_all(
        balancer: BalancerFactory) -> None:
    """As an ALB, when no target passes its checks, requests still go to every target."""
    lb = await balancer()
    for task in lb.tasks:
        task.healthy = False
    await eventually(lambda: all(lb.server_state(f"gateway-{t.az}") == "stopped"
                                 for t in lb.tasks), within=8, what="both marked down")
    answers = [await _call(lb) for _ in range(4)]
    assert {code for code, _, _ in answers} == {200}
    assert {body["az"] for _, _, body in answers} == {"az-a", "az-b"}
    report = status(lb.state_dir)["gateway"]
    assert report["fail_open"] is True
    assert sum(f["http_2xx"] for f in report["by_az"].values()) >= 4


async def test_no_reachable_target_is_a_503_problem_with_retry_after(
        balancer: BalancerFactory) -> None:
    """With every task gone, the client gets a 503 `no_healthy_target` problem that carries
    its request id and says when to retry."""
    lb = await balancer(listening=False)
    code, headers, body = await _call(lb, headers={"X-Request-Id": "lost-1"})
    _assert_problem(code, headers, body, expected=503, code="no_healthy_target")
    assert headers["X-Request-Id"] == "lost-1" and headers["Retry-After"] == "2"


async def test_a_get_is_retried_on_the_other_target_when_its_first_dies(
        balancer: BalancerFactory) -> None:
    """A task dying mid-request costs a GET nothing: the other AZ answers it."""
    lb = await balancer()
    lb.faults.die_next = 1
    code, _, body = await _call(lb)
    assert code == 200
    assert len(lb.faults.served) == 2 and lb.faults.served[0] != lb.faults.served[1]
    assert body["az"] == lb.faults.served[1]


async def test_a_post_without_idempotency_key_is_never_replayed(
        balancer: BalancerFactory) -> None:
    """Once sent, a plain POST is not sent again: the client gets a 502 problem instead."""
    lb = await balancer()
    lb.faults.die_next = 1
    code, headers, body = await _call(lb, "POST", data=b'{"hold": 1}')
    _assert_problem(code, headers, body, expected=502, code="bad_gateway")
    assert len(lb.faults.served) == 1


async def test_a_post_with_an_idempotency_key_is_replayed_on_the_other_target(
        balancer: BalancerFactory) -> None:
    """A POST the client marked safe to repeat is retried in the other AZ, body and all."""
    lb = await balancer()
    lb.faults.die_next = 1
    code, _, body = await _call(lb, "POST", headers={"Idempotency-Key": "k-1"},
                                data=b'{"hold": 1}')
    assert code == 200 and body["body_bytes"] == len(b'{"hold": 1}')
    assert len(lb.faults.served) == 2 and lb.faults.served[0] != lb.faults.served[1]


async def test_a_target_too_slow_to_answer_is_a_504_problem(balancer: BalancerFactory) -> None:
    """Past the server timeout (1 s in this test) the client gets `gateway_timeout`."""
    lb = await balancer()
    code, headers, body = await _call(lb, "POST", "/slow?seconds=3")
    # The target would have answered 200 after 3 s: the 504 is the timeout's answer.
    _assert_problem(code, headers, body, expected=504, code="gateway_timeout")
    assert len(lb.faults.served) == 1


async def test_a_slow_body_is_a_408_problem(balancer: BalancerFactory) -> None:
    """A client that sends one byte of its body and then stalls gets a 408 problem once
    `timeout http-request` (2 s in this test) passes, long before its next byte."""
    lb = await balancer()
    head, problem = _response(await _raw(lb, b"POST /work HTTP/1.1\r\nHost: x\r\n"
                                             b"X-Request-Id: slow-body-1\r\n"
                                             b"Content-Length: 10\r\n\r\n{"))
    assert head.startswith(b"HTTP/1.1 408")
    assert problem["code"] == "request_timeout" and problem["request_id"] == "slow-body-1"
    assert lb.faults.served == []


async def test_a_body_over_one_mebibyte_is_a_413_problem(balancer: BalancerFactory) -> None:
    """Exactly 1 MiB passes; one byte more is `payload_too_large`, and no target sees it."""
    lb = await balancer()
    code, _, body = await _call(lb, "POST", data=b"x" * 1024 * 1024)
    assert code == 200 and body["body_bytes"] == 1024 * 1024
    # The refusal comes once a buffer's worth (128 KiB) is in, so the client sends just that
    # much: one that kept writing would meet a closed connection before reading the answer.
    head, problem = _response(await _raw(lb, b"POST /work HTTP/1.1\r\nHost: x\r\n"
                                             b"X-Request-Id: big-1\r\n"
                                             b"Content-Length: 1048577\r\n\r\n"
                                             + b"x" * 140_000))
    assert head.startswith(b"HTTP/1.1 413")
    assert problem["code"] == "payload_too_large" and problem["request_id"] == "big-1"
    assert len(lb.faults.served) == 1


async def _raw(lb: RunningBalancer, request: bytes) -> bytes:
    """Send *request* bytes on a new connection and return all that comes back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", int(lb.url.rsplit(":", 1)[1]))
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


def _response(answer: bytes) -> tuple[bytes, Any]:
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), answer[:300]
    return head, json.loads(payload)


@pytest.mark.parametrize(("headers", "path", "expected", "code"), [
    ({"X-Big": "a" * 8100}, "/work", 431, "request_header_fields_too_large"),
    ({"X-Big": "a" * 9000}, "/work", 431, "request_header_fields_too_large"),
    ({f"X-H{i}": "1" for i in range(101)}, "/work", 431, "request_header_fields_too_large"),
    ({}, "/work?q=" + "a" * 8100, 414, "uri_too_long"),
])
async def test_oversized_requests_are_refused_before_aiohttp_sees_them(
        balancer: BalancerFactory, headers: dict[str, str], path: str, expected: int,
        code: str) -> None:
    """Header lines, header counts and URLs past our limits (below aiohttp's, which would
    answer in plain text) get a problem from HAProxy, and no target sees the request."""
    lb = await balancer()
    status_code, got_headers, body = await _call(lb, path=path, headers=headers)
    _assert_problem(status_code, got_headers, body, expected=expected, code=code)
    assert lb.faults.served == []


# What HAProxy's parser refuses before a request exists, and the status it picks (checked
# against HAProxy 2.6's mux_h1.c and by sending each).
PARSER_REFUSALS = [
    (b"NOT HTTP AT ALL\r\n\r\n", 400),
    (b"POST /work HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
     400),
    (b"POST /work HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
    (b"GET /work HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
    (b"GET /work HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n", 400),
    (b"GET /work HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", 413),
    (b"POST /work HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     b"3\r\nabc\r\n0\r\n\r\n", 422),
]


@pytest.mark.parametrize(("request_bytes", "status"), PARSER_REFUSALS)
async def test_what_the_parser_rejects_is_answered_never_an_empty_close(
        balancer: BalancerFactory, request_bytes: bytes, status: int) -> None:
    """Garbage, bad framing and headers past the parser's buffer get a 4xx answer, never a
    silent close: our problem document where HAProxy reads its error files for the parser
    (3.3 and later), its built-in page before that; no target sees the request."""
    lb = await balancer()
    answer = await _raw(lb, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1."), answer[:200]
    if parser_answers_from_error_files(haproxy_version()):
        problem = json.loads(body)
        assert b"application/problem+json" in head.lower()
        assert problem["status"] == int(head.split()[1]) < 500
    else:
        assert int(head.split()[1]) == status and body
    assert lb.faults.served == []


async def test_a_connection_that_sends_nothing_is_closed_without_an_answer(
        balancer: BalancerFactory) -> None:
    """A connection with no request past `timeout http-request` (2 s here) is closed quietly:
    browsers open such connections ahead of time, and a 408 would confuse them."""
    lb = await balancer()
    assert await _raw(lb, b"") == b""


async def test_partial_headers_past_the_request_timeout_get_a_408(
        balancer: BalancerFactory) -> None:
    """Headers that stop half way are answered 408 once `timeout http-request` passes."""
    lb = await balancer()
    answer = await _raw(lb, b"GET /work HTTP/1.1\r\nHost: x\r\n")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]


@pytest.mark.parametrize(("headers", "path", "expected", "code"), [
    ({"X-Big": "a" * 100_000}, "/work", 431, "request_header_fields_too_large"),
    ({}, "/work?q=" + "a" * 100_000, 414, "uri_too_long"),
])
async def test_a_hundred_kilobytes_of_query_or_header_get_a_problem(
        balancer: BalancerFactory, headers: dict[str, str], path: str, expected: int,
        code: str) -> None:
    """Up to the parser's buffer (128 KiB) requests are parsed, so 100 KB of header or query
    meets our own 431 or 414 problem, with its request id."""
    lb = await balancer()
    status_code, got_headers, body = await _call(lb, path=path, headers=headers)
    _assert_problem(status_code, got_headers, body, expected=expected, code=code)
    assert lb.faults.served == []


async def test_the_runtime_api_drains_and_adds_servers(balancer: BalancerFactory) -> None:
    """A drained target finishes its request and leaves rotation; an added one joins it."""
    lb = await balancer()
    slow = asyncio.create_task(_call(lb, "POST", "/slow?seconds=0.5"))
    await eventually(lambda: len(lb.faults.served) == 1, within=5, what="slow request sent")
    busy = f"gateway-{lb.faults.served[0]}"
    await asyncio.to_thread(lb.api.deregister, "gateway", busy, delay=3)
    assert (await slow)[0] == 200
    states = {s.name: s for s in lb.api.servers_state("gateway")}
    assert states[busy].maintenance and states[busy + FAIL_OPEN_SUFFIX].maintenance
    other = {"gateway-az-a": "az-b", "gateway-az-b": "az-a"}[busy]
    assert {(await _call(lb))[2]["az"] for _ in range(4)} == {other}

    port = next(t.port for t in lb.tasks if f"gateway-{t.az}" == busy)
    lb.api.add_server("gateway", "gateway-extra", f"127.0.0.1:{port} check inter 1000ms")
    await eventually(lambda: lb.server_state("gateway-extra") == "running", within=5,
                     what="added server up")
    served = {(await _call(lb))[2]["az"] for _ in range(4)}
    assert served == {"az-a", "az-b"}


async def test_a_task_registers_with_its_twin_and_is_removed_whole(
        balancer: BalancerFactory) -> None:
    """register_target adds a checked server named after the task and its fail-open twin;
    it keeps its connections for the next requests, as an ALB does; remove_target deletes
    both, and traffic goes back to the other targets."""
    lb = await balancer()
    extra = FakeTask(az="az-b", faults=lb.faults)
    await extra.start()
    lb.tasks.append(extra)
    target = Target(az="az-b", port=extra.port, name="gateway-az-b-7")
    lb.api.register_target("gateway", "gateway-az-b-7", server_args(lb.config, target),
                           fail_open_args(target))
    names = {s.name for s in lb.api.servers_state("gateway")}
    assert {"gateway-az-b-7", "gateway-az-b-7" + FAIL_OPEN_SUFFIX} <= names
    await eventually(lambda: lb.server_state("gateway-az-b-7") == "running", within=8,
                     what="the registered task up")
    assert any(t["server"] == "gateway-az-b-7" and t["az"] == "az-b"
                for t in status(lb.state_dir)["gateway"]["targets"])

    # One client connection, many requests: the target is reached over kept connections.
    async with aiohttp.ClientSession() as http:
        for _ in range(30):
            async with http.get(lb.url + "/work") as resp:
                assert resp.status == 200
    row = next(r for r in lb.api.stat()
               if r["pxname"] == "gateway" and r["svname"] == "gateway-az-b-7")
    assert int(row["stot"]) >= 5 and int(row["connect"]) <= 2, row

    lb.api.remove_target("gateway", "gateway-az-b-7")
    names = {s.name for s in lb.api.servers_state("gateway")}
    assert not {n for n in names if n.startswith("gateway-az-b-7")}
    # Removing what is already gone is not an error (a task reaped twice).
    lb.api.remove_target("gateway", "gateway-az-b-7")
