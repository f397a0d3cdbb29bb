"""The threshold evaluator, on stats that locust recorded in real runs."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
import yaml

from loadtests import judge, names
from loadtests.judge import Thresholds, evaluate, load_thresholds, parse_thresholds, verdict
from loadtests.scenarios import SCENARIOS
from loadtests.stats import Recorded, parse_stats

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
          "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
          "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%")


def _stats(*rows: str) -> Recorded:
    return Recorded(endpoints=parse_stats("\n".join([HEADER, *rows])), history={})


def _by_name(checks: list[judge.Check]) -> dict[str, judge.Check]:
    return {c.name: c for c in checks}


def test_the_recorded_booking_run_passes_every_booking_threshold(booking_run: Recorded) -> None:
    """Each threshold of the booking block gives one check, and the healthy run passes all."""
    thresholds = load_thresholds("booking")
    checks = evaluate(thresholds, booking_run)
    expected = (1 + 1 + len(thresholds.time_to_confirmed_ms)
                + sum(len(p) for p in thresholds.endpoints.values()))
    assert len(checks) == expected  # the arrival ratio is judged only in the open model
    assert [c.name for c in checks if not c.passed] == []
    assert verdict(checks, invariants_hold=True)


def test_observed_values_are_locusts_own_figures(booking_run: Recorded) -> None:
    """The observed p95 of holds and time to confirmed are the numbers in locust's CSV."""
    checks = _by_name(evaluate(Thresholds(
        time_to_confirmed_ms={50: 3000, 95: 10000},
        endpoints={"POST /v1/holds": {95: 1000}}), booking_run))
    assert checks["p95 POST /v1/holds"].observed == 81
    assert checks["p50 time to confirmed"].observed == 1300
    assert checks["p95 time to confirmed"].observed == 2200


def test_a_threshold_set_above_what_was_reached_fails_the_run(booking_run: Recorded) -> None:
    """A p95 limit under the observed latency fails that check and the verdict."""
    checks = evaluate(Thresholds(endpoints={"POST /v1/holds": {95: 50.0, 99: 5000.0}}),
                      booking_run)
    failed = [c for c in checks if not c.passed]
    assert [(c.name, c.observed) for c in failed] == [("p95 POST /v1/holds", 81)]
    assert not verdict(checks, invariants_hold=True)


def test_a_completion_ratio_above_one_can_never_pass(booking_run: Recorded) -> None:
    """Asking for more than every checkout fails even a perfect run (the README's example)."""
    (check,) = evaluate(Thresholds(min_checkout_completion=1.01), booking_run)
    assert check.observed == 1.0 and not check.passed


def test_error_ratio_counts_http_requests_only() -> None:
    """BOOKING outcomes, JOURNEY rows and locust's aggregate do not count as HTTP errors."""
    recorded = _stats(
        "GET,/v1/flights,90,1,10,10,1,50,100,1,0,10,10,10,10,10,20,30,40,50,50,50",
        "POST,/v1/holds,10,0,10,10,1,50,100,1,0,10,10,10,10,10,20,30,40,50,50,50",
        f"BOOKING,{names.CONFIRMED},10,5,900,900,1,50,0,1,0,900,9,9,9,9,9,9,9,9,9,9",
        "JOURNEY,booker,10,0,900,900,1,50,0,1,0,900,9,9,9,9,9,9,9,9,9,9",
        ",Aggregated,120,6,10,10,1,50,100,1,0,10,10,10,10,10,20,30,40,50,50,50")
    (check,) = evaluate(Thresholds(max_error_ratio=0.01), recorded)
    assert check.observed == pytest.approx(0.01) and check.passed


def test_completion_counts_checkouts_and_leaves_cancellations_apart() -> None:
    """A declined card ending `failed` completes as expected; a cancel row is judged apart."""
    recorded = _stats(
        f"BOOKING,{names.CONFIRMED},97,3,900,900,1,50,0,1,0,900,9,9,9,9,9,9,9,9,9,9",
        f"BOOKING,{names.DECLINED},10,0,900,900,1,50,0,1,0,900,9,9,9,9,9,9,9,9,9,9",
        f"BOOKING,{names.CANCELLED},4,4,900,900,1,50,0,1,0,900,9,9,9,9,9,9,9,9,9,9")
    checks = _by_name(evaluate(Thresholds(min_checkout_completion=0.97,
                                          min_cancel_completion=0.5), recorded))
    assert checks["checkout completion"].observed == pytest.approx(104 / 107)
    assert checks["checkout completion"].passed
    assert checks["cancel completion"].observed == 0 and not checks["cancel completion"].passed


def test_sold_out_in_a_flash_sale_is_an_answer_not_an_error(flash_sale_run: Recorded) -> None:
    """409 sold_out is counted on its own row as a success, so the error ratio stays 0."""
    sold_out = flash_sale_run.row(f"POST {names.HOLDS_SOLD_OUT}")
    assert sold_out is not None and sold_out.requests == 149 and sold_out.failures == 0
    checks = evaluate(load_thresholds("flash-sale"), flash_sale_run)
    assert all(c.passed for c in checks)


def test_a_threshold_nothing_was_measured_for_fails(booking_run: Recorded) -> None:
    """An endpoint the run never called cannot pass: a typo must not hide a threshold."""
    (check,) = evaluate(Thresholds(endpoints={"GET /v1/nowhere": {95: 100.0}}), booking_run)
    assert check.observed is None and not check.passed


def test_arrival_rate_is_judged_only_for_the_open_model(booking_run: Recorded) -> None:
    """With a target rate the achieved journeys per second are compared to it; else skipped."""
    thresholds = Thresholds(min_arrival_ratio=0.9)
    assert evaluate(thresholds, booking_run) == []
    journeys = sum(e.requests for e in booking_run.endpoints if e.type == names.JOURNEY)
    achieved = journeys / booking_run.duration_s
    (slow,) = evaluate(thresholds, booking_run, target_rate=achieved * 2)
    assert slow.observed == pytest.approx(0.5) and not slow.passed
    (met,) = evaluate(thresholds, booking_run, target_rate=achieved)
    assert met.passed


def test_broken_invariants_fail_a_run_whose_thresholds_pass(booking_run: Recorded) -> None:
    """The verdict fails on invariants; a check that could not run does not fail it."""
    checks = evaluate(load_thresholds("booking"), booking_run)
    assert not verdict(checks, invariants_hold=False)
    assert verdict(checks, invariants_hold=None)


@pytest.mark.parametrize("block, message", [
    ({"max_eror_ratio": 0.1}, "unknown threshold"),
    ({"endpoints": {"GET /v1/flights": {"p90": 100}}}, "p50, p95 and/or p99"),
    ({"time_to_confirmed_ms": 3000}, "p50, p95 and/or p99"),
])
def test_a_mistyped_threshold_is_an_error_not_a_silent_pass(block: dict[str, Any],
                                                             message: str) -> None:
    """Unknown keys and percentiles are rejected when the file is read."""
    with pytest.raises(ValueError, match=message):
        parse_thresholds({"booking": block}, "booking")


def test_every_scenario_has_its_thresholds() -> None:
    """thresholds.yaml has a block for each scenario, and no block for an unknown one (beside
    the comparisons' regression: block)."""
    document = yaml.safe_load(judge.THRESHOLDS_PATH.read_text())
    assert set(document) == set(SCENARIOS) | {"regression"}
    for name in SCENARIOS:
        assert load_thresholds(name).max_error_ratio is not None


def test_thresholds_read_as_a_person_writes_them() -> None:
    """Percentile keys p50/p95/p99 become numbers; endpoints keep locust's `METHOD route`."""
    parsed = parse_thresholds(yaml.safe_load(textwrap.dedent("""
        booking:
          time_to_confirmed_ms: {p50: 3000, p95: 8000}
          endpoints:
            GET /v1/flights/{id}: {p99: 900}
        """)), "booking")
    assert parsed.time_to_confirmed_ms == {50: 3000.0, 95: 8000.0}
    assert parsed.endpoints == {"GET /v1/flights/{id}": {99: 900.0}}


def test_abort_on_fail_watches_only_what_failed_with_something_measured() -> None:
    """The watched thresholds reach locust as the YAML gives them; mid-run, a ratio over its
    limit fails, an endpoint not reached yet does not (nothing measured is not a failure
    until the run ends)."""
    thresholds = parse_thresholds(yaml.safe_load(textwrap.dedent("""
        soak:
          abort_on_fail: [max_error_ratio, endpoints]
          abort_delay_s: 5
          max_error_ratio: 0.01
          endpoints:
            POST /v1/holds: {p95: 100}
        """)), "soak")
    document = judge.abort_document(thresholds)
    assert document == {"delay_s": 5.0, "max_error_ratio": 0.01,
                        "endpoints": {"POST /v1/holds": {"p95": 100.0}}}
    healthy = _stats("GET,/v1/flights,100,0,10,10,1,50,100,1,0,10,10,10,10,10,20,30,40,50,50,50")
    assert judge.failing_now(document, healthy) == []
    failing = _stats("GET,/v1/flights,100,5,10,10,1,50,100,1,0,10,10,10,10,10,20,30,40,50,50,50")
    assert [c.name for c in judge.failing_now(document, failing)] == [
        "error ratio (HTTP requests)"]


def test_only_thresholds_of_the_block_that_locust_measures_can_abort() -> None:
    """abort_on_fail naming a threshold the block does not set, or one measured only after
    the run (the arrival rate, scaling), is refused."""
    for names_ in (["max_error_ratio"], ["min_arrival_ratio"]):
        with pytest.raises(ValueError, match="abort_on_fail"):
            parse_thresholds({"x": {"abort_on_fail": names_, "min_arrival_ratio": 0.9}}, "x")
    assert judge.abort_document(load_thresholds("booking")) == {}
    assert judge.abort_document(load_thresholds("soak"))["max_error_ratio"] == 0.005
