"""Load shapes as stages: bounded in time and users, each with its own profile."""

from __future__ import annotations

import pytest

from loadtests import shapes
from loadtests.shapes import MAX_DURATION_S, SHAPES, stage_at, stages


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_ends_at_its_duration_within_its_users(shape: str) -> None:
    """No stage outlives the duration or holds more users than asked; then the run stops."""
    plan = stages(shape, users=50, duration_s=60)
    assert plan[-1].until_s == 60
    assert all(1 <= s.users <= 50 and s.spawn_rate > 0 for s in plan)
    assert max(s.users for s in plan) == 50
    assert stage_at(plan, 59.9) is not None and stage_at(plan, 60) is None


def test_a_spike_rises_to_every_user_in_the_middle_and_falls_back() -> None:
    """A spike: a fifth of the users, all of them within two seconds, then a fifth again."""
    plan = stages("spike", users=50, duration_s=100)
    assert [s.users for s in plan] == [10, 50, 10]
    middle = stage_at(plan, 50)
    assert middle is not None and middle.users == 50 and 40 / middle.spawn_rate <= 2


def test_steps_rise_in_five_equal_parts() -> None:
    """A step run holds 20%, 40% ... 100% of the users for a fifth of the time each."""
    plan = stages("step", users=50, duration_s=100)
    assert [(s.until_s, s.users) for s in plan] == [(20, 10), (40, 20), (60, 30), (80, 40),
                                                    (100, 50)]


def test_a_ramp_reaches_its_users_in_a_fifth_of_the_run() -> None:
    """Ramp: users arrive at users / (duration / 5) per second, then hold."""
    (stage,) = stages("ramp", users=50, duration_s=60)
    assert stage.spawn_rate == pytest.approx(50 / 12)


@pytest.mark.parametrize("duration", [0, 4, MAX_DURATION_S + 1])
def test_runs_are_bounded_in_time(duration: float) -> None:
    """A soak is hours, not days: durations outside 5 s to 4 h are refused."""
    with pytest.raises(ValueError, match="duration"):
        stages("soak", users=10, duration_s=duration)


def test_an_unknown_shape_is_refused() -> None:
    """A shape name that does not exist is an error naming the ones that do."""
    with pytest.raises(ValueError, match="ramp, step, spike, soak, steady"):
        stages("wave", users=10, duration_s=60)


def test_the_scale_shape_ramps_holds_and_falls_to_a_trickle() -> None:
    """Scale: every user from 15% of the run, held to 40%, then 5% of them (a trickle, so the
    request metric keeps its datapoints) to the end; the fall is when the load falls."""
    plan = shapes.stages("scale", users=200, duration_s=240)
    assert [(s.until_s, s.users) for s in plan] == [(96.0, 200), (240.0, 10)]
    assert plan[0].spawn_rate == pytest.approx(200 / 36)
    assert shapes.load_falls_at("scale", 240) == 96.0
    assert shapes.load_falls_at("ramp", 240) is None
