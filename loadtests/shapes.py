"""Load shapes as plain stages, so locust's shape class stays thin and the profiles testable."""

from __future__ import annotations

import math
from dataclasses import dataclass

SHAPES = ("ramp", "step", "spike", "soak", "steady", "scale")
# The scale shape: up over the first part, held, then a trickle for the rest. A trickle, not
# nothing: an ALB with no request publishes no RequestCountPerTarget, and a target-tracking
# alarm with missing data never scales in (neither on AWS nor locally).
SCALE_RAMP, SCALE_HOLD_END = 0.15, 0.4
SCALE_TRICKLE = 0.05
# Every run is bounded: a soak is hours, not days, and nothing runs without an end.
MAX_DURATION_S = 4 * 3600
MIN_DURATION_S = 5


@dataclass(frozen=True)
class Stage:
    """Hold *users* (reached at *spawn_rate* users/s) until *until_s* seconds into the run."""

    until_s: float
    users: int
    spawn_rate: float


def _rate(users: int, seconds: float) -> float:
    return max(1.0, users / max(seconds, 1.0))


def stages(shape: str, *, users: int, duration_s: float) -> list[Stage]:
    """Return the stages of *shape* for at most *users* users over *duration_s* seconds."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
    if users < 1:
        raise ValueError("a load run needs at least one user")
    if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be {MIN_DURATION_S} to {MAX_DURATION_S} seconds")
    d = float(duration_s)
    if shape == "ramp":
        # A fifth of the run to ramp up, then hold: the held part is what the figures judge.
        ramp = max(1.0, d / 5)
        return [Stage(d, users, _rate(users, ramp))]
    if shape == "step":
        # Five equal steps up to *users*: the step where latency bends is the knee.
        steps = min(5, users)
        return [Stage(d * (i + 1) / steps, max(1, users * (i + 1) // steps),
                      _rate(users // steps or 1, 2)) for i in range(steps)]
    if shape == "spike":
        base = max(1, users // 5)
        return [Stage(d * 0.4, base, _rate(base, d * 0.1)),
                Stage(d * 0.6, users, _rate(users - base, 2)),  # the spike: within 2 s
                Stage(d, base, _rate(users - base, 2))]
    if shape == "soak":
        ramp = min(60.0, d / 10)
        return [Stage(d, users, _rate(users, ramp))]
    if shape == "scale":
        trickle = max(1, math.ceil(users * SCALE_TRICKLE))
        return [Stage(d * SCALE_HOLD_END, users, _rate(users, d * SCALE_RAMP)),
                Stage(d, trickle, _rate(users - trickle, 2))]
    # steady: every user at once (open model: the arrival rate, not the users, is the load).
    return [Stage(d, users, _rate(users, min(5.0, d / 10)))]


def load_falls_at(shape: str, duration_s: float) -> float | None:
    """Return when the load of *shape* falls to its trickle, seconds into the run (None for a
    shape that holds to its end)."""
    return duration_s * SCALE_HOLD_END if shape == "scale" else None


def stage_at(plan: list[Stage], elapsed_s: float) -> Stage | None:
    """Return the stage in force *elapsed_s* seconds into the run, None once it is over."""
    for stage in plan:
        if elapsed_s < stage.until_s:
            return stage
    return None
