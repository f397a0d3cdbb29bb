"""What a person reads after a run: the table, the JSON summary, the plots, the damage counts."""

from __future__ import annotations

import json
from pathlib import Path

from loadtests import summary
from loadtests.invariants import DOUBLED, LOST, OVERSOLD, InvariantResult, not_run
from loadtests.judge import evaluate, load_thresholds
from loadtests.plots import write_plots
from loadtests.stats import Recorded, Sample, per_second
from operations.check import Violation

PARAMETERS = {"users": 10, "duration_s": 20, "shape": "ramp", "rate": None,
              "host": "http://127.0.0.1:18080"}


def _summary(run: Recorded, invariants: InvariantResult) -> dict[str, object]:
    checks = evaluate(load_thresholds("booking"), run)
    return summary.build(scenario="booking", parameters=PARAMETERS, checks=checks,
                         invariants=invariants, recorded=run, passed=False, extra={})


def test_damage_is_counted_by_kind() -> None:
    """Invariants 1-2 are oversold, 3, 5 and 6 lost, 4 doubled, as DESIGN.md numbers them."""
    result = InvariantResult(ran=True, violations=[Violation(n, "x") for n in (1, 2, 3, 4, 5, 6)])
    assert (result.count(OVERSOLD), result.count(LOST), result.count(DOUBLED)) == (2, 3, 1)
    assert result.holds is False
    assert not_run("on AWS").holds is None
    assert InvariantResult(ran=True, violations=[], error="moto is gone").holds is False


def test_the_table_names_the_verdict_each_threshold_and_the_damage(booking_run: Recorded
                                                                   ) -> None:
    """The terminal table shows the verdict, every threshold with its result, and the counts."""
    text = summary.table(_summary(booking_run, InvariantResult(
        ran=True, violations=[Violation(3, "booking b1 still pending")], attempts=3,
        seconds=12.0)))
    assert text.splitlines()[0].startswith("itinera load booking: FAIL")
    assert "p95 POST /v1/holds" in text and "ok" in text
    assert "oversold 0, lost 1, doubled 0" in text
    assert "invariant 3: booking b1 still pending" in text
    assert "BOOKING POST /v1/bookings -> confirmed" in text


def test_the_summary_is_json_with_every_threshold_and_the_bookings(booking_run: Recorded
                                                                   ) -> None:
    """summary.json carries each threshold (expected, observed, pass) and the booking counts."""
    data = json.loads(json.dumps(_summary(booking_run, not_run("--no-check"))))
    first = data["thresholds"][0]
    assert set(first) >= {"name", "expected", "observed", "passed"}
    assert data["invariants"] == {"ran": False, "holds": None, "reason": "--no-check", "error": "",
                                  "oversold": 0, "lost": 0, "doubled": 0, "attempts": 0,
                                  "seconds": 0.0, "violations": []}
    assert data["bookings"]["checkouts"] == 9 and data["bookings"]["confirmed"] == 6


def test_rates_come_from_differences_of_cumulative_counts() -> None:
    """Per-second rates are exact differences over the window, failures and successes apart."""
    samples = [Sample(t=t, users=1, requests=10 * t, failures=t, percentiles={})
               for t in range(0, 11)]
    assert per_second(samples, window=5)[-1] == (10, 10.0)
    assert per_second(samples, failures=True, window=5)[-1] == (10, 1.0)
    assert per_second(samples, successes=True, window=5)[-1] == (10, 9.0)


def test_plots_are_written_from_the_recorded_history(booking_run: Recorded,
                                                     tmp_path: Path) -> None:
    """Requests/s, latency per endpoint, errors, bookings confirmed/s and an overview as PNG."""
    written = write_plots(booking_run, tmp_path)
    assert sorted(p.name for p in written) == [
        "bookings_confirmed.png", "errors.png", "latency.png", "overview.png",
        "requests_per_second.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_junit_beside_the_report_fails_the_cases_the_run_failed(booking_run: Recorded,
                                                                tmp_path: Path) -> None:
    """junit.xml: one case per threshold, the invariants (a violation fails them; not checked
    is skipped) and the run's own completion; failures counted as the verdict says."""
    import xml.etree.ElementTree as ET

    from loadtests.runner import write_junit

    broken = _summary(booking_run, InvariantResult(
        ran=True, violations=[Violation(3, "booking b1 still pending")]))
    report = write_junit(tmp_path, broken)
    suite = ET.parse(report).getroot().find("testsuite")  # noqa: S314 - our own report
    assert suite is not None
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    thresholds = broken["thresholds"]
    assert isinstance(thresholds, list)
    assert set(cases) == {t["name"] for t in thresholds} | {
        "invariants (itinera check)", "the run completed"}
    failed = {name for name, c in cases.items() if c.find("failure") is not None}
    assert failed == {t["name"] for t in thresholds if not t["passed"]} | {
        "invariants (itinera check)"}
    assert "booking b1 still pending" in (cases["invariants (itinera check)"].find(
        "failure").get("message") or "")  # type: ignore[union-attr]
    assert suite.get("failures") == str(len(failed))
    unchecked = _summary(booking_run, not_run("--no-check"))
    report = write_junit(tmp_path, unchecked)
    suite = ET.parse(report).getroot().find("testsuite")  # noqa: S314 - our own report
    assert suite is not None and suite.get("skipped") == "1"
