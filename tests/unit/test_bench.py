"""make bench: wrk's output read right, and the table's ratios and verdicts from its figures."""

from __future__ import annotations

from loadtests.bench.run import Options, table
from loadtests.bench.wrk import Result, parse

WRK = """Running 8s test @ http://127.0.0.1:27080/v1/flights?origin=LHR
  1 threads and 64 connections
  Latency Distribution
     50%  612.00us
     75%    1.10ms
     90%    2.00ms
     99%   15.71ms
  106958 requests in 8.00s, 64.19MB read
Requests/sec:  13337.52
status 200 106950
status 503 8
"""


def test_wrk_output_gives_rate_percentiles_in_ms_and_statuses() -> None:
    """Microseconds and milliseconds both come out in ms; every status line is counted."""
    result = parse(WRK)
    assert result.rps == 13337.52
    assert (result.p50_ms, result.p99_ms) == (0.612, 15.71)
    assert result.statuses == {200: 106950, 503: 8} and result.non_2xx == 8


def test_ratios_are_medians_of_the_rounds_and_errors_fail_a_target() -> None:
    """Each path's ratio is the median of its per-round ratios; a non-2xx answer or a broken
    cabin fails the row however fast it was."""
    ok = {200: 1}
    rounds = {"bare": [Result(30_000, 1, 3, ok), Result(20_000, 1, 3, ok),
                       Result(25_000, 1, 3, ok)],
              "search": [Result(15_000, 2, 10, ok), Result(5_000, 2, 10, ok),
                         Result(10_000, 2, 10, {200: 1, 500: 1})],
              "update": [5_000.0, 4_000.0, 6_000.0],
              "holds": [Result(3_000, 5, 40, ok), Result(1_000, 5, 40, ok),
                        Result(2_400, 5, 40, ok)]}
    half = Result(5_000, 1, 20, ok)
    counts = {"capacity": 10, "available": 5, "held": 5, "sold": 0}
    rows = table(Options(), rounds, half, counts)
    assert rows[0].ratio == 0.4 and not rows[0].met  # 0.5, 0.25, 0.4: median 0.4; one 500
    assert rows[1].met  # p99 20 ms < 25 ms
    assert rows[2].ratio == 0.4 and not rows[2].met  # 0.6, 0.25, 0.4 -> 0.4 < 0.5
    broken = table(Options(), rounds, half, {**counts, "sold": 1})
    assert not broken[3].met and "BROKEN" in broken[3].itinera
