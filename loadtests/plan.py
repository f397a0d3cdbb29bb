"""What traffic a load run offers and how it is judged, wherever it runs (locally, on AWS, under a
game day): declared once, extended by each kind of run with what only it needs."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from loadtests.scenarios import Scenario

P = TypeVar("P", bound="LoadPlan")


@dataclass(frozen=True, kw_only=True)
class LoadPlan:
    """A scenario's travellers, how many, how long, in which shape, judged by which file."""

    scenario: Scenario
    users: int
    duration_s: float
    shape: str
    rate: float | None
    report_root: Path
    thresholds_path: Path
    # A run to compare against: its regressions (thresholds' regression: block) fail this one.
    baseline: Path | None = None

    @classmethod
    def of(cls, scenario: Scenario, *, users: int | None, duration_s: float | None,
           shape: str | None, rate: float | None, report_root: Path,
           thresholds_path: Path, time_scale: float = 1.0,
           baseline: Path | None = None) -> LoadPlan:
        """Return the plan for *scenario*, its own defaults filling what was not asked (a
        clock-scaled scenario's duration at the target's *time_scale*)."""
        default = scenario.duration_s * (time_scale if scenario.clock_scaled else 1.0)
        # The open model holds its users from the start: the rate, not a ramp, is the load.
        return LoadPlan(scenario=scenario, users=users or scenario.users,
                        duration_s=duration_s or round(default),
                        shape=shape or ("steady" if rate else scenario.shape), rate=rate,
                        report_root=report_root, thresholds_path=thresholds_path,
                        baseline=baseline)

    def extended(self, kind: type[P], **more: Any) -> P:
        """Return this plan as a run of *kind*, with that run's own settings."""
        return kind(**{f.name: getattr(self, f.name) for f in fields(LoadPlan)}, **more)


@dataclass(frozen=True, kw_only=True)
class JudgedRun(LoadPlan):
    """A run that goes somewhere and judges itself after: where its load goes, and how the
    invariant check after it waits."""

    host: str
    check: bool = True
    grace_s: float = 5.0
    settle_s: float = 120.0
    confirm_deadline_s: float = 30.0
