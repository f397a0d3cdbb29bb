"""Target tracking as Application Auto Scaling does it for ECS: pure decisions from datapoints.

The rules (AWS's, for target tracking):
- scale out when a policy's metric is above its target on 3 consecutive datapoints;
- scale in only when it is more than 10% below target on 15 consecutive datapoints;
- the new capacity is ceil(capacity * metric / target), bounded by the scalable target;
- during a scale-out cooldown the capacity already added counts: a further scale-out happens
  only if the capacity the metric asks for exceeds the desired count, and it is computed from
  the capacity the metric was measured on (before the cooldown started);
- a scale-out is never held back by a scale-in cooldown (it interrupts it); a scale-in waits
  out its cooldown;
- with several policies: out if any says out (the largest capacity wins), in only if all say
  in (the largest of their capacities, so none goes below what it needs);
- missing datapoints are treated as missing (the target-tracking alarms' setting): an alarm
  judges the most recent datapoints that exist, looking back up to twice its evaluation
  periods (CloudWatch's evaluation range is longer than the periods for this reason), so a
  quiet minute in a trickle of traffic does not hold a scale-in back; too few datapoints in
  that range (no traffic at all) is insufficient data, which never scales in;
- a policy with DisableScaleIn has no low alarm: it never asks for a scale-in and does not
  hold one back (the other policies decide it); with none left to decide, nothing scales in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

from localaws.ecs.model import ScalingPolicy

OUT_DATAPOINTS = 3
IN_DATAPOINTS = 15
# How far back an alarm looks for its datapoints when some periods have none.
LOOKBACK = 2
# Scale in only when the metric is this far below target, so capacity does not flap.
IN_MARGIN = 0.9

Action = Literal["out", "in", "none"]


@dataclass(frozen=True, kw_only=True)
class PolicyVote:
    """What one policy says about the capacity, and why."""

    policy: str
    action: Action
    capacity: int
    reason: str
    # The datapoints the vote was taken on (3 for out, 15 for in), and the alarm's threshold.
    datapoints: tuple[float, ...] = ()
    threshold: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One evaluation: the desired count before and after, and the reason."""

    action: Action
    previous: int
    desired: int
    reason: str
    votes: tuple[PolicyVote, ...] = ()


@dataclass(kw_only=True)
class ScalingState:
    """What a scalable target remembers between evaluations (times in local seconds)."""

    desired: int
    min_capacity: int
    max_capacity: int
    scale_out_at: float | None = None
    # The capacity the metric was measured on when the running scale-out cooldown began.
    capacity_before_out: int | None = None
    scale_in_at: float | None = None
    # Set when RegisterScalableTarget changed the bounds since the last evaluation: the
    # desired count is brought inside them once (a count set out of band, e.g. ECS
    # UpdateService to 0, stays until a policy or a new registration changes it, as on AWS).
    bounds_changed: bool = False
    # RegisterScalableTarget's SuspendedState: DynamicScalingOut/InSuspended.
    out_suspended: bool = False
    in_suspended: bool = False
    history: list[Decision] = field(default_factory=list)


def vote(policy: ScalingPolicy, datapoints: list[float | None], capacity: int, *,
         low: int, high: int) -> PolicyVote:
    """Return what *policy* says, given its datapoints (oldest first, None for missing)."""
    recent = _present(datapoints, OUT_DATAPOINTS)
    target = policy.target
    if len(recent) == OUT_DATAPOINTS and all(v > target for v in recent):
        latest = float(recent[-1])  # type: ignore[arg-type]
        wanted = min(high, math.ceil(capacity * latest / target))
        return PolicyVote(policy=policy.name, action="out", capacity=wanted,
                          reason=f"{policy.name}: {_fmt(list(recent))} > {target:g} on "
                                 f"{OUT_DATAPOINTS} datapoints",
                          datapoints=tuple(recent),
                          threshold=target)
    if policy.disable_scale_in:
        return PolicyVote(policy=policy.name, action="none", capacity=capacity,
                          reason=f"{policy.name}: scale-in disabled")
    values = _present(datapoints, IN_DATAPOINTS)
    if len(values) < IN_DATAPOINTS:
        return PolicyVote(policy=policy.name, action="none", capacity=capacity,
                          reason=f"{policy.name}: insufficient data ({len(values)} of "
                                 f"{IN_DATAPOINTS} datapoints in the last "
                                 f"{LOOKBACK * IN_DATAPOINTS} periods)")
    if all(v < target * IN_MARGIN for v in values):
        # The highest of the window: capacity for the busiest minute of it.
        wanted = max(low, math.ceil(capacity * max(values) / target))
        return PolicyVote(policy=policy.name, action="in", capacity=wanted,
                          reason=f"{policy.name}: below {target * IN_MARGIN:g} on "
                                 f"{IN_DATAPOINTS} datapoints (max {max(values):.4g})",
                          datapoints=tuple(values), threshold=target * IN_MARGIN)
    return PolicyVote(policy=policy.name, action="none", capacity=capacity,
                      reason=f"{policy.name}: {values[-1]:.4g} near target {target:g}")


def decide(state: ScalingState, policies: list[ScalingPolicy],
           datapoints: dict[str, list[float | None]], *, now: float, time_scale: float
           ) -> Decision:
    """Evaluate every policy and update *state*; return the decision."""
    previous = state.desired
    bounded = max(state.min_capacity, min(state.max_capacity, previous))
    changed, state.bounds_changed = state.bounds_changed, False
    if changed and bounded != previous:
        # New bounds (RegisterScalableTarget) apply at once, whatever the policies say.
        state.desired = bounded
        decision = Decision(action="out" if bounded > previous else "in", previous=previous,
                            desired=bounded, reason=f"scalable target bounds now "
                                                    f"{state.min_capacity}-{state.max_capacity}")
        state.history.append(decision)
        return decision
    out_cooldown = max((p.scale_out_cooldown for p in policies), default=0.0) * time_scale
    in_cooldown = max((p.scale_in_cooldown for p in policies), default=0.0) * time_scale
    cooling_out = state.scale_out_at is not None and now - state.scale_out_at < out_cooldown
    cooling_in = state.scale_in_at is not None and now - state.scale_in_at < in_cooldown
    # In a scale-out cooldown the metric still reflects the capacity before it.
    measured_on = (state.capacity_before_out if cooling_out and state.capacity_before_out
                   else state.desired)
    votes = tuple(vote(p, datapoints.get(p.name, []), measured_on,
                       low=state.min_capacity, high=state.max_capacity) for p in policies)
    outs = [] if state.out_suspended else [v for v in votes if v.action == "out"]
    # Policies with scale-in disabled have no say in a scale-in.
    deciding = [] if state.in_suspended else [
        v for v, p in zip(votes, policies, strict=True) if not p.disable_scale_in]
    decision = Decision(action="none", previous=previous, desired=previous,
                        reason="; ".join(v.reason for v in votes) or "no policies")
    if outs:
        best = max(outs, key=lambda v: v.capacity)
        if best.capacity > state.desired:
            if not cooling_out:
                state.capacity_before_out = state.desired
            state.desired, state.scale_out_at = best.capacity, now
            # A scale-out interrupts a scale-in cooldown.
            state.scale_in_at = None
            decision = Decision(action="out", previous=previous, desired=best.capacity,
                                reason=best.reason + (" (cooldown: capacity added counts)"
                                                      if cooling_out else ""), votes=votes)
        else:
            decision = Decision(action="none", previous=previous, desired=previous,
                                reason=f"{best.reason}, but {state.desired} tasks already "
                                       f"cover {best.capacity}", votes=votes)
    elif deciding and all(v.action == "in" for v in deciding):
        wanted = max(v.capacity for v in deciding)
        if cooling_in:
            decision = Decision(action="none", previous=previous, desired=previous,
                                reason="scale-in cooldown: " + decision.reason, votes=votes)
        elif wanted < state.desired:
            state.desired, state.scale_in_at = wanted, now
            decision = Decision(action="in", previous=previous, desired=wanted,
                                reason="all policies below target: " + decision.reason,
                                votes=votes)
    else:
        decision = Decision(action="none", previous=previous, desired=previous,
                            reason=decision.reason, votes=votes)
    if decision.action == "none" and (state.out_suspended or state.in_suspended):
        suspended = [side for side, on in (("out", state.out_suspended),
                                           ("in", state.in_suspended)) if on]
        decision = replace(decision, reason=f"scaling {' and '.join(suspended)} suspended; "
                                            + decision.reason)
    state.history.append(decision)
    del state.history[:-50]
    return decision


def _present(datapoints: list[float | None], wanted: int) -> list[float]:
    """Return the most recent *wanted* datapoints that exist within the alarm's lookback."""
    found = [float(v) for v in datapoints[-LOOKBACK * wanted:] if v is not None]
    return found[-wanted:]


def _fmt(values: list[float | None]) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in values if v is not None) + "]"
