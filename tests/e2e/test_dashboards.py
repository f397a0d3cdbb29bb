"""After a short real run, `itinera dashboard render` draws each dashboard with data in every
widget the run exercised."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from cli.commands.dashboard import local_inputs
from dashboards.drawing.render import Report, render
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import book, find_flight, hold_seats, run_cli, wait_for_status
from tests.waiting import eventually

# What a few searches, two holds and one confirmed booking exercise, per dashboard. The rest
# needs what this run does not do (5xx, throttles, sold out) or has no local stand-in (Aurora,
# ElastiCache) or comes with another branch (the ECS scheduler's task counts and CPU).
EXERCISED = {
    "itinera-e2e-booking-slo": {
        "Availability per route (% answered without 5xx)",
        "Latency per route, p50 and p99 (ms)",
        "Public load balancer p99 response time (s)",
        "Bookings confirmed and failed",
        "Time to confirmed, p50 and p99 (ms)"},
    "itinera-e2e-multi-az": {
        "Gateway requests per AZ",
        "Healthy gateway hosts per AZ",
        "Healthy inventory hosts per AZ",
        "Gateway p99 target response time per AZ (s)"},
    "itinera-e2e-autoscaling": {"Requests per target against the scaling target"},
    "itinera-e2e-async-pipeline": {
        "Queue depth (visible messages)",
        "Dead-letter queues (must stay 0)",
        "Lambda invocations and errors",
        "Lambda duration, p50 and p99 (ms)",
        "Lambda concurrency"},
    "itinera-e2e-business": {
        "Searches",
        "Search cache hit ratio (%)",
        "Holds created and sold out",
        "Bookings by outcome",
        "Oversold units (must stay 0)"},
}


def missing(report: Report) -> dict[str, set[str]]:
    """Return, per dashboard, the exercised widgets that still have no data."""
    with_data = {d.name: {w.title for w in d.widgets if w.has_data} for d in report.dashboards}
    gaps = {name: titles - with_data.get(name, set()) for name, titles in EXERCISED.items()}
    return {name: titles for name, titles in gaps.items() if titles}


async def test_each_dashboard_renders_with_data_where_the_run_went(
        stack: RunningStack, http: aiohttp.ClientSession, tmp_path: Path) -> None:
    """Searches, holds and a confirmed booking light up every widget listed in EXERCISED,
    through the real metrics pipeline, and the command writes the page."""
    started = datetime.now(UTC) - timedelta(minutes=1)
    # GIVEN a traveller who searches, holds twice, releases nothing and books once
    token = stack.token("dashboard-traveller")
    flight = await find_flight(http, stack.url, seats=1)
    await hold_seats(http, stack.url, token, (await find_flight(http, stack.url, seats=1))["id"],
                     1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    status, body = await book(http, stack.url, token, hold["id"], "4242424242424242")
    assert status == 202
    booking = await wait_for_status(http, stack.url, token, body["booking_id"])
    assert booking["status"] == "confirmed"

    # WHEN the dashboards are rendered, until the metrics of a few local periods are in
    state_dir = stack.config.state_dir
    attempts = itertools.count(1)

    def rendered() -> Report:
        report = render(**local_inputs(state_dir), start=started,
                        end=datetime.now(UTC) + timedelta(seconds=30),
                        out=tmp_path / f"render-{next(attempts)}")
        gaps = missing(report)
        assert not gaps, f"widgets without data: {gaps}"
        return report

    report = await eventually(rendered, within=120, every=2,
                              what="every exercised widget with data")

    # THEN every dashboard is there, each widget drawn, and the command writes the page too
    assert set(EXERCISED) <= {d.name for d in report.dashboards}
    assert all((report.index.parent / w.png).stat().st_size > 0
               for d in report.dashboards for w in d.widgets)
    # (as for a load run's report folder: its window, its phase marked, into its folder)
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps({
        "scenario": "dashboard-e2e", "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat()}))
    code, out, err = await run_cli("--state-dir", str(state_dir), "dashboard", "render",
                                   "--run", str(run))
    assert code == 0, err
    page = (run / "dashboards" / "index.html").read_text()
    assert "The run's phases" in page and "load: dashboard-e2e" in page
    assert "time scale" in out and "itinera-e2e-business:" in out
