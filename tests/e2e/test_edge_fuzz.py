"""Bytes a client can send to the public entry and the web port: always a prompt, honest answer."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import aiohttp

from localaws.elb.runner import haproxy_version, parser_answers_from_error_files
from tests.e2e import fuzz
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import find_flight, hold_seats

# The seed makes a failing run repeatable: FUZZ_SEED=<printed seed> pytest <this file>.
SEED = int(os.environ.get("FUZZ_SEED", "20261207"))
MUTATIONS_PER_REQUEST = 450
# Sockets open at once: slow cases wait out the 10 s request timeout side by side.
CONCURRENCY = 200
REPORT = Path(__file__).resolve().parents[2] / "reports" / "edge-fuzz-failures.txt"


async def _bases(stack: RunningStack, http: aiohttp.ClientSession) -> dict[str, bytes]:
    """Return real requests: a flight search, a hold and a booking of that hold."""
    token = stack.token("fuzz-traveller")
    auth = b"Authorization: Bearer " + token.encode()
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    day = (date.today() + timedelta(days=3)).isoformat().encode()
    hold_body = json.dumps({"items": [{"kind": "flight", "flight_id": flight["id"],
                                       "cabin": "economy", "quantity": 1}]}).encode()
    booking_body = json.dumps({"hold_id": hold["id"], "payment": {
        "card_number": "4242424242424242"}, "contact": {"email": "fuzz@example.com"}}).encode()
    json_type = b"Content-Type: application/json"
    return {
        "search": fuzz.request(b"GET", b"/v1/flights?origin=LHR&destination=JFK&date=" + day
                               + b"&passengers=2&cabin=economy", [b"Accept: application/json"]),
        "hold": fuzz.request(b"POST", b"/v1/holds", [
            auth, json_type, b"Idempotency-Key: " + uuid.uuid4().hex.encode(),
            b"Content-Length: %d" % len(hold_body)], hold_body),
        "booking": fuzz.request(b"POST", b"/v1/bookings", [
            auth, json_type, b"Idempotency-Key: " + uuid.uuid4().hex.encode(),
            b"Content-Length: %d" % len(booking_body)], booking_body),
    }


def _verdict(target: str, case: fuzz.Case, answer: fuzz.Answer, *, parser_pages: bool
             ) -> str | None:
    """Return what is wrong with *answer*, or None; *target* is `alb` or `web`."""
    if answer.status == 0:
        return None if not case.data else "closed without an answer"
    if answer.status >= 500:
        return f"{answer.status}: {answer.body[:200]!r}"
    if answer.status < 400:
        return None
    content_type = answer.headers.get("content-type", "")
    if case.data.startswith(b"HEAD ") and content_type == "application/problem+json":
        return None  # a HEAD answer has no body to read
    if fuzz.problem_of(answer) is not None:
        problem = fuzz.problem_of(answer)
        assert problem is not None
        return None if problem.get("status") == answer.status and problem.get("code") \
            else f"a problem without status or code: {answer.body[:200]!r}"
    if target == "web" and answer.status == 403 and content_type == "application/xml" \
            and b"<Code>AccessDenied</Code>" in answer.body:
        return None  # S3's answer for a key that is not there, as through CloudFront
    if target == "alb" and parser_pages and content_type == "text/html" \
            and answer.status in (400, 408, 413, 422):
        return None  # HAProxy before 3.3: its parser's built-in page (see PARSER_PAGES)
    return f"{answer.status} {content_type}: {answer.body[:200]!r}"


async def test_no_byte_sequence_gets_a_hang_an_empty_close_a_5xx_or_a_non_problem(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Thousands of malformed and mutated requests, to the public load balancer and to the
    web port: each gets an answer within the deadline (slow clients a 408 after 10 s), never
    a bare close or a 5xx, and every 4xx is a problem document (S3's AccessDenied for a key
    of the bucket excepted; and HAProxy's built-in page for what its parser refuses, where
    the installed HAProxy, before 3.3, cannot send an error file for those)."""
    rng = random.Random(SEED)
    bases = await _bases(stack, http)
    cases = [*fuzz.handmade(token=stack.token("fuzz-handmade"),
                            hold=bases["hold"].partition(b"\r\n\r\n")[2]), *fuzz.drips()]
    for name, base in bases.items():
        cases += fuzz.mutations(rng, name, base, MUTATIONS_PER_REQUEST)
    ports = {"alb": stack.config.gateway_port, "web": stack.config.cloudfront_port}
    parser_pages = not parser_answers_from_error_files(haproxy_version())
    gate = asyncio.Semaphore(CONCURRENCY)
    failures: list[str] = []
    seen: collections.Counter[str] = collections.Counter()

    async def one(target: str, case: fuzz.Case) -> None:
        async with gate:
            try:
                answer = await fuzz.send(ports[target], case)
            except TimeoutError:
                failures.append(f"{target} {case.name}: no answer in {fuzz.DEADLINE_SECONDS} s "
                                f"({case.data[:120]!r})")
                return
            except (AssertionError, ValueError) as exc:
                failures.append(f"{target} {case.name}: {exc} ({case.data[:120]!r})")
                return
        seen[f"{target} {answer.status}"] += 1
        if answer.headers.get("content-type") == "text/html":
            seen[f"{target} html"] += 1  # how many HAProxy parser pages were let through
        if (case.drip or case.name.startswith("stall")) and answer.status != 408:
            failures.append(f"{target} {case.name}: a slow client got {answer.status}")
        wrong = _verdict(target, case, answer, parser_pages=parser_pages)
        if wrong:
            failures.append(f"{target} {case.name}: {wrong} ({case.data[:120]!r})")

    started = time.monotonic()
    await asyncio.gather(*(one(target, case) for case in cases for target in ports))
    took = time.monotonic() - started
    print(f"\nedge fuzz: seed {SEED}, {len(cases) * len(ports)} cases in {took:.1f} s, "
          f"HAProxy parser pages allowed: {parser_pages}; answers {dict(sorted(seen.items()))}")
    # Every failure, for reading beyond the assertion's first forty.
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("".join(f"{line}\n" for line in sorted(failures)))
    assert not failures, (f"seed {SEED}: {len(failures)} of {len(cases) * len(ports)} cases "
                          f"failed:\n" + "\n".join(sorted(failures)[:40]))
