"""`itinera load compare A B`: per-endpoint differences, and regressions judged by the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from loadtests.compare import Regression, compare, judge, parse_regression, rows, text

LIMITS = Regression(max_latency_increase=0.5, latency_floor_ms=25, max_rate_drop=0.2,
                    max_failure_ratio_increase=0.01, max_time_to_confirmed_increase=0.5)


def endpoint(kind: str, name: str, *, rps: float, p95: float, requests: int = 1000,
             failures: int = 0) -> dict[str, Any]:
    """One endpoint as summary.json holds it."""
    return {"type": kind, "name": name, "requests": requests, "failures": failures,
            "rps": rps, "p50_ms": p95 / 4, "p95_ms": p95, "p99_ms": p95 * 2}


def run(*endpoints: dict[str, Any]) -> dict[str, Any]:
    """A run's summary with *endpoints* and locust's aggregate row."""
    return {"endpoints": [*endpoints, endpoint("", "Aggregated", rps=1, p95=1)]}


A = run(endpoint("GET", "/v1/flights", rps=50, p95=80),
        endpoint("POST", "/v1/holds", rps=5, p95=200),
        endpoint("BOOKING", "POST /v1/bookings -> confirmed", rps=1, p95=1500))


def checks_of(b: dict[str, Any], limits: Regression = LIMITS) -> dict[str, tuple[Any, bool]]:
    """B against A: the checks by name, (observed, passed)."""
    return {c.name: (c.observed, c.passed) for c in judge(rows(A, b), limits)}


def test_the_same_run_compares_clean() -> None:
    """A against itself: every check within its limit, no change printed but +0%."""
    checks = checks_of(A)
    assert checks and all(passed for _, passed in checks.values())
    assert "+0%" in text("a", "a", rows(A, A), judge(rows(A, A), LIMITS))


def test_slower_fewer_and_failing_endpoints_regress() -> None:
    """p95 of flights 80 -> 200 ms (+150%), holds at half the rate, 2% failed holds, time to
    confirmed 1.5 -> 4 s: each beyond its limit; the text names them."""
    b = run(endpoint("GET", "/v1/flights", rps=50, p95=200),
            endpoint("POST", "/v1/holds", rps=2.5, p95=200, failures=20),
            endpoint("BOOKING", "POST /v1/bookings -> confirmed", rps=1, p95=4000))
    checks = checks_of(b)
    assert checks["p95 GET /v1/flights: increase over A"] == (pytest.approx(1.5), False)
    assert checks["rate POST /v1/holds: drop from A"] == (pytest.approx(0.5), False)
    assert checks["failures POST /v1/holds: ratio increase over A"] == (
        pytest.approx(0.02), False)
    assert not checks["p95 BOOKING POST /v1/bookings -> confirmed: increase over A"][1]
    assert "REGRESSED p95 GET /v1/flights: increase over A: +150%" in text(
        "a", "b", rows(A, b), judge(rows(A, b), LIMITS))


def test_differences_under_the_floor_do_not_count() -> None:
    """p50 of flights 20 -> 40 ms is +100% but 20 ms: under the 25 ms floor, not a regression."""
    b = run(endpoint("GET", "/v1/flights", rps=50, p95=80),
            endpoint("POST", "/v1/holds", rps=5, p95=200),
            endpoint("BOOKING", "POST /v1/bookings -> confirmed", rps=1, p95=1500))
    b["endpoints"][0]["p50_ms"] = 40
    assert checks_of(b)["p50 GET /v1/flights: increase over A"] == (0.0, True)


def test_an_endpoint_only_one_run_reached_is_listed_not_judged() -> None:
    """B never held: holds are shown as not measured, and no check is made for them."""
    b = run(endpoint("GET", "/v1/flights", rps=50, p95=80))
    assert not any("holds" in name for name in checks_of(b))
    assert "(not measured)" in text("a", "b", rows(A, b), [])


def test_compare_writes_its_record_and_plot_and_the_file_sets_the_limits(
        tmp_path: Path) -> None:
    """compare() reads both folders, judges with the file's regression: block, and writes
    compare.json and compare.png into B's folder; an unknown key in the block is refused."""
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, summary in ((a, A), (b, run(endpoint("GET", "/v1/flights", rps=50, p95=90)))):
        folder.mkdir()
        (folder / "summary.json").write_text(json.dumps(summary))
    strict = tmp_path / "strict.yaml"
    strict.write_text("regression: {max_latency_increase: 0.1}\n")
    output, checks = compare(a, b, thresholds=strict)
    # 80 -> 90 ms is +12.5% at every percentile; this file sets no floor.
    assert [c.name for c in checks if not c.passed] == [
        f"{p} GET /v1/flights: increase over A" for p in ("p50", "p95", "p99")]
    assert (b / "compare.png").stat().st_size > 0
    assert json.loads((b / "compare.json").read_text())["checks"]
    assert "GET /v1/flights" in output
    with pytest.raises(ValueError, match="unknown"):
        parse_regression({"regression": {"max_p95": 1}})
