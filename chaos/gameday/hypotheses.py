"""Steady-state hypotheses: phase windows, metrics from the load run's samples and the
stop-condition alarms' history, verdicts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chaos.experiments import Hypothesis
from loadtests import names
from loadtests.invariants import InvariantResult
from loadtests.stats import AGGREGATED, Recorded, Sample

SEARCHES = (f"GET {names.FLIGHTS}", f"GET {names.HOTELS}")
CONFIRMED = f"{names.BOOKING} {names.CONFIRMED}"


@dataclass(frozen=True, kw_only=True)
class Windows:
    """The game day's phases in epoch seconds: before the fault, during it, after it."""

    load_start: float
    fault_start: float
    fault_end: float
    load_end: float
    # A hypothesis's after_fault_s is AWS time: it shrinks with the actions' durations.
    scale: float = 1.0

    def of(self, h: Hypothesis) -> tuple[float, float]:
        """Return the window *h* is measured over."""
        if h.phase == "before":
            return self.load_start, self.fault_start
        if h.phase == "during":
            start = self.fault_start + h.after_fault_s * self.scale
            return start, max(self.fault_end, start)
        return self.fault_end, self.load_end


def windows(*, load_start: float, load_end: float, fault_start: float,
            timed_fault_end: float | None, scale: float = 1.0) -> Windows:
    """Return the phases; a fault without duration (stop-task) lasts, in effect, to the end."""
    end = load_end
    if timed_fault_end is not None and timed_fault_end < load_end:
        end = timed_fault_end
    return Windows(load_start=load_start, fault_start=fault_start, fault_end=end,
                   load_end=load_end, scale=scale)


def _at(samples: list[Sample], t: float) -> Sample | None:
    """Return the last sample at or before *t* (counts are cumulative), if any."""
    before = [s for s in samples if s.t <= t]
    return before[-1] if before else None


def _covering(samples: list[Sample], t: float) -> Sample | None:
    """Return the sample whose second contains *t*: the first at or after it, else the last."""
    return next((s for s in samples if s.t >= t), samples[-1] if samples else None)


def _counts(recorded: Recorded, key: str, start: float, end: float) -> tuple[int, int]:
    # Counts are cumulative once a second; the second a phase boundary falls in belongs to
    # the phase it began in, so a failure in a fault's last second is not counted after it.
    samples = recorded.history.get(key, [])
    last = _covering(samples, end)
    if last is None or last.t < start:
        return 0, 0
    first = _covering(samples, start) if _at(samples, start) is not None else None
    if first is None:  # the row appeared inside the window: count from zero
        return last.requests, last.failures
    return last.requests - first.requests, last.failures - first.failures


def _percentile(recorded: Recorded, key: str, p: int, start: float, end: float
                ) -> float | None:
    # Locust's history percentiles cover its last 10 s; the window's worst one is the figure.
    values = [s.percentiles.get(p) for s in recorded.history.get(key, [])
              if start <= s.t <= end + 1]
    found = [v for v in values if v is not None]
    return max(found) if found else None


def _http_keys(recorded: Recorded) -> list[str]:
    """Return the history rows of HTTP requests (not journeys or booking outcomes)."""
    return [k for k in recorded.history
            if k != AGGREGATED and k.split(" ", 1)[0] not in names.OUTCOME_TYPES]


def _worst(recorded: Recorded, keys: list[str], p: int, start: float, end: float
           ) -> float | None:
    # Percentiles of separate rows do not merge; the worst endpoint's bounds them all.
    found = [v for k in keys if (v := _percentile(recorded, k, p, start, end)) is not None]
    return max(found) if found else None


def _invariant_count(invariants: InvariantResult, number: int) -> list[str]:
    return [v.detail for v in invariants.violations if v.invariant == number]


def measure(metric: str, recorded: Recorded, window: tuple[float, float],
            invariants: InvariantResult,
            alarms: Sequence[Mapping[str, Any]] = ()) -> float | None:
    """Return *metric* (chaos.experiments.METRICS) over *window*; None when there is no data.
    *alarms* are the stop-condition alarms' transitions (`at`, `new`)."""
    start, end = window
    if metric == "stop_alarms_fired":
        return float(sum(1 for t in alarms if t["new"] == "ALARM" and start <= t["at"] <= end))
    http = _http_keys(recorded)
    if metric == "error_ratio":
        pairs = [_counts(recorded, key, start, end) for key in http]
        requests = sum(r for r, _ in pairs)
        return sum(f for _, f in pairs) / requests if requests else None
    if metric == "latency_p95_ms":
        return _worst(recorded, http, 95, start, end)
    if metric == "request_max_s":
        # Locust's history keeps p50, p95 and p99, not each request: p99 is the nearest to a max.
        worst = _worst(recorded, http, 99, start, end)
        return worst / 1000 if worst is not None else None
    if metric == "search_success_ratio":
        pairs = [_counts(recorded, key, start, end) for key in SEARCHES]
        requests = sum(r for r, _ in pairs)
        return (requests - sum(f for _, f in pairs)) / requests if requests else None
    if metric == "time_to_confirmed_p95_s":
        worst = _percentile(recorded, CONFIRMED, 95, start, end)
        return worst / 1000 if worst is not None else None
    if not invariants.ran:
        return None
    if metric == "checkout_completion_ratio":
        booked = sum(e.requests for e in recorded.endpoints if e.type == names.BOOKING)
        stuck = len(_invariant_count(invariants, 3))
        return 1.0 - stuck / max(booked, stuck, 1)
    if metric == "captures_per_booking_max":
        counts = [int(m.group(1)) for d in _invariant_count(invariants, 4)
                  if (m := re.search(r"captured (\d+) times", d))]
        return float(max(counts, default=1))
    if metric == "confirmations_per_booking_max":
        # `itinera check` flags a confirmed booking without its e-mail, not extra ones.
        return 0.0 if _invariant_count(invariants, 5) else 1.0
    if metric == "oversold":
        return float(len(_invariant_count(invariants, 1)))
    raise ValueError(f"unknown metric {metric}")


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """One hypothesis judged: the bound, what was observed, and whether it held."""

    hypothesis: Hypothesis
    window: tuple[float, float]
    observed: float | None
    holds: bool

    @property
    def expected(self) -> str:
        """Return the bound as text, with its tolerance."""
        h = self.hypothesis
        sign, bound = ("<=", h.max) if h.max is not None else (">=", h.min)
        return f"{h.metric} {sign} {bound:g}" + (f" ± {h.tolerance:g}" if h.tolerance else "")


def judge(h: Hypothesis, observed: float | None) -> bool:
    """Return whether *observed* keeps *h*'s bound within its tolerance; no data fails."""
    if observed is None:
        return False
    if h.max is not None:
        return observed <= h.max + h.tolerance
    assert h.min is not None
    return observed >= h.min - h.tolerance


def evaluate(hypotheses: tuple[Hypothesis, ...], recorded: Recorded, phases: Windows,
             invariants: InvariantResult,
             alarms: Sequence[Mapping[str, Any]] = ()) -> list[Verdict]:
    """Judge every hypothesis over its phase's window."""
    out = []
    for h in hypotheses:
        window = phases.of(h)
        observed = measure(h.metric, recorded, window, invariants, alarms)
        out.append(Verdict(hypothesis=h, window=window, observed=observed,
                           holds=judge(h, observed)))
    return out
