"""The scaling record of a run judged against a scenario's `scaling:` thresholds."""

from __future__ import annotations

import json

import pytest

from loadtests.scaling import ServiceScaling, judge, owner_of, parse_thresholds, summary
from loadtests.stats import AGGREGATED, Recorded, Sample

T0 = 1_800_000_000.0
# Time scale 0.1: a period lasts 6 s.
SCALE = 0.1


def history(failures_at: dict[int, int]) -> Recorded:
    """One aggregated sample a second for 300 s; *failures_at* adds failures at a second."""
    samples, failed = [], 0
    for second in range(300):
        failed += failures_at.get(second, 0)
        samples.append(Sample(t=int(T0) + second, users=10, requests=10 * second,
                              failures=failed, percentiles={}))
    return Recorded(endpoints=[], history={AGGREGATED: samples})


def activity(at: float, desired: int, previous: int, datapoints: int = 3) -> dict[str, object]:
    """An activity as DescribeScalingActivities gives it, read by observe()."""
    return {"at": T0 + at, "description": f"Setting desired count to {desired}.",
            "cause": "monitor alarm TargetTracking-x-AlarmHigh in state ALARM triggered "
                     "policy gateway-requests", "status": "Successful",
            "details": {"previous": previous, "datapoints": [1500.0] * datapoints}}


def scaled(out_at: float = 30, running_at: float = 36, in_at: float = 200,
           min_at: float = 206) -> ServiceScaling:
    """The gateway: 2 tasks, out to 4 at *out_at* (running at *running_at*), back to 2."""
    return ServiceScaling(
        service="gateway",
        desired=[(T0, 2), (T0 + out_at, 4), (T0 + in_at, 2)],
        running=[(T0, 2), (T0 + running_at, 4), (T0 + min_at, 2)],
        healthy={"az-a": [(T0, 1), (T0 + running_at, 2)], "az-b": [(T0, 1)]},
        activities=[activity(out_at, 4, 2), activity(in_at, 2, 4, datapoints=15)])


THRESHOLDS = parse_thresholds("scale.scaling", {
    "services": ["gateway"], "min_capacity": 2, "min_peak_tasks": 4,
    "scale_out_within_periods": 6, "max_failures_while_scaling": 0,
    "back_to_min_within_s": 1260})


def by_name(services: dict[str, ServiceScaling], recorded: Recorded,
            falls_at: float = T0 + 96) -> dict[str, tuple[float | None, bool]]:
    """The checks, by name: (observed, passed)."""
    return {c.name: (c.observed, c.passed) for c in judge(
        THRESHOLDS, services, recorded=recorded, falls_at=falls_at, time_scale=SCALE)}


def test_a_run_that_scaled_out_and_back_passes_with_its_figures() -> None:
    """Started at 2, ran 4 at the peak, the added tasks ran 9 s after the 3 datapoints began
    (18 s before the activity): (36 - 12) / 6 = 4 periods; back to 2 running 110 s after the
    fall (within 126 s: 1260 AWS seconds at 0.1); no failure."""
    checks = by_name({"gateway": scaled()}, history({}))
    assert checks == {
        "gateway: peak running tasks": (4, True),
        "gateway: periods from crossing the target to tasks added": (4.0, True),
        "gateway: desired tasks when the load started (at rest)": (2, True),
        "gateway: seconds from the load's fall to min capacity": (110.0, True),
        "failed requests while tasks joined or left": (0.0, True)}


def test_failures_while_tasks_join_fail_the_run_and_before_do_not() -> None:
    """A failure 5 s after the scale-out counts; one long before the first activity does
    not (it is the load's, not the scaling's)."""
    assert by_name({"gateway": scaled()}, history({35: 1}))[
        "failed requests while tasks joined or left"] == (1.0, False)
    assert by_name({"gateway": scaled()}, history({5: 3}))[
        "failed requests while tasks joined or left"] == (0.0, True)


def test_a_service_that_never_scaled_or_came_back_fails() -> None:
    """No activity: no scale-out to measure and no peak; still at 4 at the end: no return."""
    flat = ServiceScaling(service="gateway", desired=[(T0, 2)], running=[(T0, 2)])
    checks = by_name({"gateway": flat}, history({}))
    assert checks["gateway: peak running tasks"] == (2, False)
    assert checks["gateway: periods from crossing the target to tasks added"] == (None, False)
    assert checks["failed requests while tasks joined or left"] == (None, False)
    stuck = scaled(in_at=290, min_at=299)
    assert by_name({"gateway": stuck}, history({}))[
        "gateway: seconds from the load's fall to min capacity"] == (203.0, False)


def test_a_run_started_while_scaled_out_fails() -> None:
    """Desired 10 at the start (a previous run's tasks): not a run from rest."""
    busy = scaled()
    busy.desired[0] = (T0, 10)
    assert by_name({"gateway": busy}, history({}))[
        "gateway: desired tasks when the load started (at rest)"] == (10, False)


def test_the_record_survives_a_round_trip_and_summarises() -> None:
    """scaling.json holds what observe() read; the summary names peaks and activities."""
    record = scaled()
    again = ServiceScaling.of(json.loads(json.dumps(record.as_dict())))
    assert again == record
    seen = summary({"gateway": record})["gateway"]
    assert (seen["peak_running"], seen["final_desired"]) == (4, 2)
    assert seen["activities"][0].startswith("Setting desired count to 4.")


@pytest.mark.parametrize("raw", [{}, {"services": []}, {"services": ["gateway"], "max": 3},
                                 {"services": ["gateway"], "back_to_min_within_s": 60}])
def test_bad_scaling_thresholds_are_refused(raw: dict[str, object]) -> None:
    """No services, an unknown key, or a return to min with no minimum: an error."""
    with pytest.raises(ValueError):
        parse_thresholds("x.scaling", raw)


def test_target_groups_belong_to_their_service_by_either_name() -> None:
    """The local stack's target groups carry the logical id; CloudFormation's generated names
    keep five letters of it."""
    services = ["gateway", "inventory", "notifier"]
    assert owner_of("targetgroup/itinera-dev-GatewayTargetGroup/0123", services) == "gateway"
    assert owner_of("targetgroup/itine-Inven-1A2B3C4D5E6F/89ab", services) == "inventory"
    assert owner_of("targetgroup/something-else/89ab", services) is None


def test_a_service_that_never_left_its_minimum_has_no_return_to_measure() -> None:
    """At min capacity when the load fell: 'back to min' is not measured (and fails), so it
    cannot pass for a service that never scaled."""
    flat = ServiceScaling(service="gateway", desired=[(T0, 2)], running=[(T0, 2)])
    assert by_name({"gateway": flat}, history({}))[
        "gateway: seconds from the load's fall to min capacity"] == (None, False)


def test_the_crossing_is_counted_from_the_periods_the_alarm_judged() -> None:
    """Locally the activity's Details say when the judged periods ended (a period before the
    decision): the crossing is 3 periods before that, so 6 s earlier than counted from the
    activity itself."""
    record = scaled()
    record.activities[0]["details"] = {"datapoints": [1500.0] * 3,
                                       "window_end": T0 + 24, "period": 6}
    assert by_name({"gateway": record}, history({}))[
        "gateway: periods from crossing the target to tasks added"] == (5.0, True)
