"""Target tracking decisions follow Application Auto Scaling's rules on recorded series."""

from __future__ import annotations

from dataclasses import replace

from localaws.ecs.model import ScalingPolicy
from localaws.ecs.scaling import ScalingState, decide

CPU = ScalingPolicy(name="cpu", metric_type="ECSServiceAverageCPUUtilization", target=60,
                    scale_out_cooldown=30, scale_in_cooldown=120)
REQUESTS = ScalingPolicy(name="requests", metric_type="ALBRequestCountPerTarget", target=1000,
                         scale_out_cooldown=30, scale_in_cooldown=120)


def state(desired: int = 2) -> ScalingState:
    """A scalable target between 2 and 10 tasks."""
    return ScalingState(desired=desired, min_capacity=2, max_capacity=10)


def test_three_datapoints_above_target_scale_out_proportionally() -> None:
    """CPU at 90% on 3 datapoints with 2 tasks asks for ceil(2 * 90 / 60) = 3 tasks."""
    s = state()
    decision = decide(s, [CPU], {"cpu": [30, 90, 90, 90]}, now=0, time_scale=1)
    assert (decision.action, decision.desired, s.desired) == ("out", 3, 3)


def test_two_datapoints_above_target_are_not_enough() -> None:
    """A breach on only the last 2 datapoints does not scale out."""
    decision = decide(state(), [CPU], {"cpu": [30, 30, 90, 90]}, now=0, time_scale=1)
    assert decision.action == "none"


def test_scale_out_is_bounded_by_the_maximum() -> None:
    """A huge metric asks for at most MaxCapacity tasks."""
    decision = decide(state(), [CPU], {"cpu": [900, 900, 900]}, now=0, time_scale=1)
    assert decision.desired == 10


def test_scale_in_needs_fifteen_datapoints_ten_percent_below() -> None:
    """15 datapoints under 54% (60 - 10%) scale in; 14 of them do not."""
    s = state(6)
    assert decide(s, [CPU], {"cpu": [10.0] * 14}, now=0, time_scale=1).action == "none"
    decision = decide(s, [CPU], {"cpu": [10.0] * 15}, now=1, time_scale=1)
    # ceil(6 * 10 / 60) = 1, bounded by the minimum of 2.
    assert (decision.action, decision.desired) == ("in", 2)


def test_slightly_below_target_does_not_scale_in() -> None:
    """At 55% (less than 10% below 60) the capacity stays."""
    decision = decide(state(4), [CPU], {"cpu": [55.0] * 15}, now=0, time_scale=1)
    assert decision.action == "none"


def test_missing_datapoints_block_scale_in() -> None:
    """Insufficient data (a gap in the 15) never scales in."""
    series: list[float | None] = [10.0] * 15
    series[7] = None
    decision = decide(state(4), [CPU], {"cpu": series}, now=0, time_scale=1)
    assert decision.action == "none"
    assert "insufficient data" in decision.reason


def test_out_if_any_policy_says_out() -> None:
    """Requests over target scale out even while CPU is low."""
    decision = decide(state(), [CPU, REQUESTS],
                      {"cpu": [5.0] * 15, "requests": [2000, 2000, 2000]}, now=0, time_scale=1)
    assert (decision.action, decision.desired) == ("out", 4)


def test_in_only_if_every_policy_says_in() -> None:
    """Low CPU alone does not scale in while requests per target sit at target."""
    decision = decide(state(4), [CPU, REQUESTS],
                      {"cpu": [5.0] * 15, "requests": [1000.0] * 15}, now=0, time_scale=1)
    assert decision.action == "none"
    both_low = decide(state(4), [CPU, REQUESTS],
                      {"cpu": [5.0] * 15, "requests": [100.0] * 15}, now=0, time_scale=1)
    assert (both_low.action, both_low.desired) == ("in", 2)


def test_capacity_added_during_scale_out_cooldown_counts() -> None:
    """Within the 30 s cooldown the same breach does not add tasks again; a bigger one adds
    only what exceeds the capacity already added, computed on the capacity measured."""
    s = state()
    assert decide(s, [CPU], {"cpu": [90, 90, 90]}, now=0, time_scale=1).desired == 3
    same = decide(s, [CPU], {"cpu": [90, 90, 90]}, now=10, time_scale=1)
    assert (same.action, s.desired) == ("none", 3)
    # ceil(2 * 150 / 60) = 5 > 3: two more, not ceil(3 * 150 / 60) = 8.
    bigger = decide(s, [CPU], {"cpu": [150, 150, 150]}, now=20, time_scale=1)
    assert (bigger.action, bigger.desired) == ("out", 5)
    # After the cooldown the metric reflects the new capacity again.
    after = decide(s, [CPU], {"cpu": [90, 90, 90]}, now=60, time_scale=1)
    assert (after.action, after.desired) == ("out", 8)


def test_scale_in_waits_for_its_cooldown() -> None:
    """A second scale-in within 120 s waits; after it, it proceeds."""
    s = state(8)
    low = {"cpu": [20.0] * 15}
    assert decide(s, [CPU], low, now=0, time_scale=1).desired == 3
    assert decide(s, [CPU], {"cpu": [1.0] * 15}, now=60, time_scale=1).action == "none"
    assert decide(s, [CPU], {"cpu": [1.0] * 15}, now=121, time_scale=1).desired == 2


def test_scale_out_interrupts_scale_in_cooldown() -> None:
    """Right after a scale-in, a breach scales out at once."""
    s = state(8)
    decide(s, [CPU], {"cpu": [20.0] * 15}, now=0, time_scale=1)
    decision = decide(s, [CPU], {"cpu": [120, 120, 120]}, now=5, time_scale=1)
    assert (decision.action, decision.desired) == ("out", 6)


def test_cooldowns_follow_the_time_scale() -> None:
    """With time scaled by 0.1 the 120 s scale-in cooldown lasts 12 local seconds."""
    s = state(8)
    decide(s, [CPU], {"cpu": [20.0] * 15}, now=0, time_scale=0.1)
    assert decide(s, [CPU], {"cpu": [1.0] * 15}, now=11, time_scale=0.1).action == "none"
    assert decide(s, [CPU], {"cpu": [1.0] * 15}, now=13, time_scale=0.1).action == "in"


def test_a_policy_with_scale_in_disabled_never_scales_in_and_holds_nothing_back() -> None:
    """DisableScaleIn: the policy alone never scales in, still scales out, and another
    policy's scale-in goes ahead without it."""
    only_out = replace(CPU, disable_scale_in=True)
    assert decide(state(6), [only_out], {"cpu": [5.0] * 15}, now=0,
                  time_scale=1).action == "none"
    assert decide(state(), [only_out], {"cpu": [90.0] * 3}, now=0,
                  time_scale=1).action == "out"
    decision = decide(state(6), [only_out, REQUESTS],
                      {"cpu": [50.0] * 15, "requests": [100.0] * 15}, now=0, time_scale=1)
    assert (decision.action, decision.desired) == ("in", 2)


def test_votes_carry_the_datapoints_and_threshold_of_their_alarm() -> None:
    """A scale-out vote keeps its 3 datapoints and the target; a scale-in vote its 15 and
    the low alarm's threshold (90% of the target)."""
    out = decide(state(), [CPU], {"cpu": [10.0, 70.0, 80.0, 90.0]}, now=0, time_scale=1)
    assert (out.votes[0].datapoints, out.votes[0].threshold) == ((70.0, 80.0, 90.0), 60)
    low = decide(state(4), [CPU], {"cpu": [10.0] * 15}, now=0, time_scale=1)
    assert (len(low.votes[0].datapoints), low.votes[0].threshold) == (15, 54.0)


def test_suspended_scaling_neither_adds_nor_removes_tasks() -> None:
    """DynamicScalingOutSuspended holds a breach back; DynamicScalingInSuspended holds a
    scale-in back; the reason says so."""
    s = state()
    s.out_suspended = True
    decision = decide(s, [CPU], {"cpu": [90.0] * 3}, now=0, time_scale=1)
    assert (decision.action, s.desired) == ("none", 2)
    assert "scaling out suspended" in decision.reason
    s = state(6)
    s.in_suspended = True
    assert decide(s, [CPU], {"cpu": [5.0] * 15}, now=0, time_scale=1).action == "none"


def test_new_bounds_apply_at_once_and_a_count_set_out_of_band_stays() -> None:
    """A minimum raised over the desired count (RegisterScalableTarget) raises it at the next
    evaluation, whatever the metric; a maximum lowered under it lowers it. A count set out of
    band (ECS UpdateService to 0, an outage drill) is left alone while the bounds stay."""
    s = state(2)
    s.min_capacity, s.bounds_changed = 4, True
    decision = decide(s, [CPU], {"cpu": [5.0] * 15}, now=0, time_scale=1)
    assert (decision.action, decision.desired) == ("out", 4)
    s.max_capacity = s.min_capacity = 3
    s.bounds_changed = True
    assert decide(s, [CPU], {}, now=1, time_scale=1).desired == 3
    drained = state(0)
    assert decide(drained, [CPU], {}, now=0, time_scale=1).action == "none"
    assert drained.desired == 0


def test_a_quiet_period_in_a_trickle_does_not_hold_a_scale_in_back() -> None:
    """Missing data is treated as missing: with one empty period among the last 15, the alarm
    looks further back (up to 30 periods) for 15 datapoints, all low: it scales in. With
    fewer than 15 in those 30 (no traffic), it is insufficient data."""
    series: list[float | None] = [10.0] * 20
    series[-4] = None
    decision = decide(state(6), [CPU], {"cpu": series}, now=0, time_scale=1)
    assert (decision.action, decision.desired) == ("in", 2)
    sparse: list[float | None] = [None, None, 10.0] * 10
    assert "insufficient data" in decide(state(6), [CPU], {"cpu": sparse}, now=0,
                                         time_scale=1).reason
