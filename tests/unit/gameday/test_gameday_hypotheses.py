"""Hypotheses are judged over their phase's window from the load run's samples."""

from __future__ import annotations

from chaos.experiments import Hypothesis
from chaos.gameday.hypotheses import evaluate, judge, measure, windows
from loadtests.invariants import InvariantResult
from loadtests.stats import AGGREGATED, EndpointStats, Recorded, Sample
from operations.check import Violation

CLEAN = InvariantResult(ran=True, violations=[])
T0 = 1_000


def _sample(t: int, requests: int, failures: int, p95: float = 100.0) -> Sample:
    return Sample(t=T0 + t, users=10, requests=requests, failures=failures,
                  percentiles={50: 20.0, 95: p95, 99: p95 * 2})


def _recorded() -> Recorded:
    """10 requests/s; 20 failures in seconds 5-10 (the fault), none after; p95 high then."""
    total = []
    failures = 0
    for t in range(0, 31):
        if 5 < t <= 10:
            failures += 4
        total.append(_sample(t, requests=10 * t, failures=failures,
                             p95=900.0 if 5 <= t <= 14 else 100.0))
    confirmed = [Sample(t=T0 + t, users=10, requests=t, failures=0,
                        percentiles={50: 800.0, 95: 1500.0, 99: 2000.0}) for t in range(31)]
    return Recorded(endpoints=[EndpointStats(type="BOOKING", name="x", requests=30, failures=0,
                                             rps=1.0, max_ms=2000.0)],
                    history={"GET /v1/flights": total, AGGREGATED: total,
                             "BOOKING POST /v1/bookings -> confirmed": confirmed})


PHASES = windows(load_start=T0, load_end=T0 + 30, fault_start=T0 + 5, timed_fault_end=None)


def test_error_ratio_counts_only_the_window() -> None:
    """20 failures of 50 HTTP requests in seconds 5-10; none from 10 s after the fault."""
    recorded = _recorded()
    assert measure("error_ratio", recorded, (T0 + 5, T0 + 10), CLEAN) == 20 / 50
    assert measure("error_ratio", recorded, (T0 + 15, T0 + 30), CLEAN) == 0.0
    assert measure("error_ratio", recorded, (T0, T0 + 5), CLEAN) == 0.0


def test_a_failure_in_the_faults_last_second_is_not_counted_after_it() -> None:
    """The fault ends at 10.6 s: the failures sampled at 11 s happened in its last second
    (mostly during it), so they count in "during", not in "after"."""
    history = [_sample(t, requests=10 * t, failures=0 if t < 11 else 3) for t in range(31)]
    recorded = Recorded(endpoints=[], history={"GET /v1/flights": history})
    assert measure("error_ratio", recorded, (T0 + 10.6, T0 + 30), CLEAN) == 0.0
    assert measure("error_ratio", recorded, (T0 + 5, T0 + 10.6), CLEAN) == 3 / 60


def test_a_fault_without_duration_lasts_to_the_end_of_the_load() -> None:
    """A stop-task's "during" runs from after_fault_s past the fault to the load's end."""
    h = Hypothesis(metric="error_ratio", phase="during", max=0.01, after_fault_s=10)
    assert PHASES.of(h) == (T0 + 15, T0 + 30)
    timed = windows(load_start=T0, load_end=T0 + 30, fault_start=T0 + 5,
                    timed_fault_end=T0 + 20)
    assert timed.of(Hypothesis(metric="error_ratio", phase="after", max=0.01)) == (
        T0 + 20, T0 + 30)


def test_after_fault_seconds_shrink_with_the_time_scale() -> None:
    """"30 s after the fault" on AWS is 3 s after it at scale 0.1, as the actions shrink."""
    scaled = windows(load_start=T0, load_end=T0 + 30, fault_start=T0 + 5,
                     timed_fault_end=T0 + 20, scale=0.1)
    h = Hypothesis(metric="error_ratio", phase="during", max=0.01, after_fault_s=30)
    assert scaled.of(h) == (T0 + 8, T0 + 20)


def test_verdicts_from_hand_made_samples() -> None:
    """Errors after 10 s hold; p95 over the fault is breached; time to confirmed in seconds."""
    verdicts = evaluate((
        Hypothesis(metric="error_ratio", phase="during", max=0.01, after_fault_s=10),
        Hypothesis(metric="latency_p95_ms", phase="during", max=500, tolerance=100),
        Hypothesis(metric="time_to_confirmed_p95_s", phase="during", max=2),
        Hypothesis(metric="checkout_completion_ratio", phase="after", min=1.0),
    ), _recorded(), PHASES, CLEAN)
    assert [v.holds for v in verdicts] == [True, False, True, True]
    assert verdicts[1].observed == 900.0
    assert verdicts[2].observed == 1.5


def test_http_figures_leave_journeys_and_booking_outcomes_out() -> None:
    """Slow booking outcomes (seconds by design) do not count as HTTP latency or errors."""
    recorded = _recorded()
    window = (T0 + 20, T0 + 30)
    assert measure("latency_p95_ms", recorded, window, CLEAN) == 100.0
    failing = Recorded(endpoints=[], history={
        **recorded.history, "JOURNEY booker": [_sample(t, 10 * t, 10 * t) for t in range(31)]})
    assert measure("error_ratio", failing, window, CLEAN) == 0.0


def test_invariant_metrics_come_from_the_check() -> None:
    """A stuck booking lowers completion; a double capture and an oversell are counted."""
    broken = InvariantResult(ran=True, violations=[
        Violation(3, "booking b1 still pending"), Violation(4, "booking b2 captured 2 times"),
        Violation(1, "flight f1 economy: ...")])
    recorded = _recorded()
    window = (T0, T0 + 30)
    assert measure("checkout_completion_ratio", recorded, window, broken) == 1 - 1 / 30
    assert measure("captures_per_booking_max", recorded, window, broken) == 2
    assert measure("oversold", recorded, window, broken) == 1
    assert measure("oversold", recorded, window, InvariantResult(ran=False,
                                                                 violations=[])) is None


def test_no_data_fails_and_tolerance_widens_the_bound() -> None:
    """A hypothesis with nothing to measure fails; the tolerance is added to the bound."""
    assert not judge(Hypothesis(metric="error_ratio", phase="during", max=0.01), None)
    assert judge(Hypothesis(metric="latency_p95_ms", phase="during", max=1000,
                            tolerance=200), 1200)
    assert not judge(Hypothesis(metric="search_success_ratio", phase="during", min=1.0,
                                tolerance=0.005), 0.99)


def test_a_stopped_timed_fault_ends_at_its_rollback() -> None:
    """A failover cut short by a stop condition ends when rolled back; a stop-task is none."""
    from chaos.gameday.run import timed_fault_end
    from localaws.fis.executor import Event, Outcome
    from localaws.fis.plan import PlannedAction

    failover = PlannedAction(name="f", action_id="aws:rds:failover-db-cluster", parameters={},
                             targets={}, local_duration_s=20)
    stop = PlannedAction(name="s", action_id="aws:ecs:stop-task", parameters={}, targets={})
    stopped = Outcome(state="stopped", events=[
        Event(T0, "start", "f"), Event(T0 + 7, "stop condition", "alarm"),
        Event(T0 + 7.5, "rolled back", "all")])
    assert timed_fault_end(stopped, [failover]) == T0 + 7.5
    instant = Outcome(state="completed", events=[
        Event(T0, "start", "s"), Event(T0, "end", "s"), Event(T0 + 0.1, "rolled back", "all")])
    assert timed_fault_end(instant, [stop]) is None


def test_stop_alarms_fired_counts_alarm_transitions_in_the_window() -> None:
    """The steady state from CloudWatch: transitions into ALARM of the stop-condition alarms
    within the phase count; a return to OK or one outside the phase does not."""
    alarms = [{"alarm": "a", "at": T0 + 2, "new": "OK"},
              {"alarm": "a", "at": T0 + 4, "new": "ALARM"},
              {"alarm": "a", "at": T0 + 12, "new": "ALARM"}]
    steady = Hypothesis(metric="stop_alarms_fired", phase="before", max=0)
    (before,) = evaluate((steady,), _recorded(), PHASES, CLEAN, alarms)
    assert (before.observed, before.holds) == (1.0, False)
    (quiet,) = evaluate((steady,), _recorded(), PHASES, CLEAN, alarms[:1])
    assert (quiet.observed, quiet.holds) == (0.0, True)
