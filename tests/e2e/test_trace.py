"""One booking followed end to end: its request id and trace header reach every service."""

from __future__ import annotations

import time

import aiohttp

from operations.trace import LogLine, booking_trace, read_lines
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import (
    book,
    find_flight,
    hold_seats,
    run_cli,
    wait_for_email,
    wait_for_status,
)
from tests.waiting import eventually

GOOD_CARD = "4242424242424242"
TRACE_HEADER = "Root=1-5f84c7a5-0123456789abcdef01234567;Sampled=1"


def _messages_by_process(lines: list[LogLine]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for line in lines:
        process = line.source.rsplit("-az-", 1)[0]
        found.setdefault(process, set()).add(str(line.entry.get("message")))
    return found


async def test_one_bookings_lines_from_every_service_share_its_request_and_trace(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """`itinera trace` finds the gateway, API, worker and notifier lines of one booking."""
    # GIVEN a traveller who books with her own request id and X-Ray trace header
    flight = await find_flight(http, stack.url, seats=1)
    token = stack.token("tracy")
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    request_id = f"trace-test-{time.time_ns()}"
    status, started = await book(http, stack.url, token, hold["id"], GOOD_CARD,
                                 email="tracy@example.com",
                                 headers={"X-Request-Id": request_id,
                                          "X-Amzn-Trace-Id": TRACE_HEADER})
    assert status == 202, started
    booking_id = started["booking_id"]

    # WHEN the booking is confirmed and its e-mail sent
    booking = await wait_for_status(http, stack.url, token, booking_id)
    assert booking["status"] == "confirmed", booking
    assert await wait_for_email(http, stack.config.moto_url, to="tracy@example.com",
                                containing=booking_id[:8])

    # THEN its lines from all four processes carry the request id and the trace id
    # (each process writes its log lines in batches: wait for all of them with a deadline)
    log_dir = stack.config.state_dir / "logs"

    def all_written() -> tuple[list[LogLine], dict[str, set[str]]]:
        lines = booking_trace(read_lines(log_dir), booking_id)
        processes = _messages_by_process(lines)
        seen = set().union(*processes.values()) if processes else set()
        wanted = {"notification sent", "checkout processed", "booking queued for the worker"}
        assert wanted <= seen, f"so far: {processes}"
        return lines, processes

    lines, processes = await eventually(all_written, within=10, every=0.2,
                                        what="the booking's lines from every process")
    assert "request" in processes.get("gateway", set()), processes
    api = next(p for p in processes if p.startswith("lambda-") and "request" in processes[p])
    assert "booking queued for the worker" in processes[api]
    assert any("checkout processed" in messages for messages in processes.values()), processes
    assert "notification sent" in processes["notifier"], processes
    carried = [line for line in lines if line.entry.get("request_id") == request_id]
    assert {line.source.rsplit("-az-", 1)[0] for line in carried} >= {
        "gateway", api, "notifier"}
    assert all(line.entry.get("trace_id") == "1-5f84c7a5-0123456789abcdef01234567"
               for line in carried)
    assert [line.ts for line in lines] == sorted(line.ts for line in lines)

    # AND the command prints them, in time order
    code, out, err = await run_cli("--state-dir", str(stack.config.state_dir), "trace",
                                   booking_id)
    assert code == 0, err
    assert out.count(request_id) >= 4
    assert "notification sent" in out
