"""Thresholds of a load run, and the pure function that judges recorded stats against them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loadtests import names
from loadtests.checks import Check, check
from loadtests.scaling import ScalingThresholds
from loadtests.scaling import parse_thresholds as parse_scaling
from loadtests.stats import AGGREGATED, Recorded

THRESHOLDS_PATH = Path(__file__).with_name("thresholds.yaml")
KEYS = {"max_error_ratio", "min_checkout_completion", "min_cancel_completion",
        "time_to_confirmed_ms", "min_arrival_ratio", "endpoints", "scaling", "abort_on_fail",
        "abort_delay_s"}
# What may stop a run as soon as it fails (k6's abortOnFail): what locust's live stats measure.
ABORTABLE = ("max_error_ratio", "min_checkout_completion", "min_cancel_completion",
             "time_to_confirmed_ms", "endpoints")
ABORT_FILE = "abort.json"
PERCENTILE_KEYS = {"p50": 50, "p95": 95, "p99": 99}


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    """What one scenario must reach; latencies in milliseconds, ratios between 0 and 1."""

    max_error_ratio: float | None = None
    min_checkout_completion: float | None = None
    min_cancel_completion: float | None = None
    time_to_confirmed_ms: dict[int, float] = field(default_factory=dict)
    min_arrival_ratio: float | None = None
    endpoints: dict[str, dict[int, float]] = field(default_factory=dict)
    # What the services' autoscaling must show (loadtests/scaling.py judges it).
    scaling: ScalingThresholds | None = None
    # Thresholds that stop the run as soon as they fail, once abort_delay_s have passed.
    abort_on_fail: tuple[str, ...] = ()
    abort_delay_s: float = 30.0


def _percentiles(where: str, raw: Any) -> dict[int, float]:
    if not isinstance(raw, dict) or not raw or set(raw) - set(PERCENTILE_KEYS):
        raise ValueError(f"{where}: give p50, p95 and/or p99 in milliseconds, got {raw!r}")
    return {PERCENTILE_KEYS[k]: float(v) for k, v in raw.items()}


def parse_thresholds(document: dict[str, Any], scenario: str) -> Thresholds:
    """Return *scenario*'s thresholds from the parsed YAML; unknown keys are errors, not no-ops."""
    if scenario not in document:
        raise ValueError(f"no thresholds for scenario {scenario!r}")
    raw = document[scenario] or {}
    unknown = set(raw) - KEYS
    if unknown:
        raise ValueError(f"{scenario}: unknown threshold(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(KEYS))}")
    return Thresholds(
        max_error_ratio=raw.get("max_error_ratio"),
        min_checkout_completion=raw.get("min_checkout_completion"),
        min_cancel_completion=raw.get("min_cancel_completion"),
        time_to_confirmed_ms=_percentiles(f"{scenario}.time_to_confirmed_ms",
                                          raw["time_to_confirmed_ms"])
        if "time_to_confirmed_ms" in raw else {},
        min_arrival_ratio=raw.get("min_arrival_ratio"),
        endpoints={key: _percentiles(f"{scenario}.endpoints.{key}", value)
                   for key, value in (raw.get("endpoints") or {}).items()},
        scaling=parse_scaling(f"{scenario}.scaling", raw["scaling"])
        if "scaling" in raw else None,
        abort_on_fail=_abortable(scenario, raw),
        abort_delay_s=float(raw.get("abort_delay_s", 30.0)))


def _abortable(scenario: str, raw: dict[str, Any]) -> tuple[str, ...]:
    names_ = tuple(raw.get("abort_on_fail") or ())
    wrong = [n for n in names_ if n not in ABORTABLE or n not in raw]
    if wrong:
        raise ValueError(f"{scenario}.abort_on_fail: {', '.join(wrong)} cannot stop a run "
                         f"(give thresholds of this block among {', '.join(ABORTABLE)})")
    return names_


def abort_document(thresholds: Thresholds) -> dict[str, Any]:
    """Return what a running locust watches (`--itinera-abort`): the thresholds that stop
    the run, as the YAML gives them, and the delay before they are watched."""
    if not thresholds.abort_on_fail:
        return {}
    out: dict[str, Any] = {"delay_s": thresholds.abort_delay_s}
    for name in thresholds.abort_on_fail:
        value = getattr(thresholds, name)
        if name == "time_to_confirmed_ms":
            value = {f"p{p}": v for p, v in value.items()}
        elif name == "endpoints":
            value = {k: {f"p{p}": v for p, v in limits.items()} for k, limits in value.items()}
        out[name] = value
    return out


def failing_now(document: dict[str, Any], recorded: Recorded) -> list[Check]:
    """Return the watched thresholds that fail on *recorded* (live stats) with something
    measured: a threshold nothing was measured for yet does not stop a run."""
    watched = parse_thresholds({"live": {k: v for k, v in document.items()
                                         if k != "delay_s"}}, "live")
    return [c for c in evaluate(watched, recorded)
            if not c.passed and c.observed is not None]


def load_thresholds(scenario: str, path: Path = THRESHOLDS_PATH) -> Thresholds:
    """Return *scenario*'s thresholds from the YAML file at *path*."""
    return parse_thresholds(yaml.safe_load(path.read_text()) or {}, scenario)


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def evaluate(thresholds: Thresholds, recorded: Recorded, *,
             target_rate: float | None = None) -> list[Check]:
    """Return one check per threshold, judged on *recorded* (locust's own stats)."""
    checks = []
    http = [e for e in recorded.endpoints
            if e.type not in names.OUTCOME_TYPES and e.name != AGGREGATED]
    checkouts = [e for e in recorded.endpoints
                 if e.type == names.BOOKING and e.name != names.CANCELLED]
    if thresholds.max_error_ratio is not None:
        checks.append(check("error ratio (HTTP requests)", "<=", thresholds.max_error_ratio,
                             _ratio(sum(e.failures for e in http),
                                    sum(e.requests for e in http))))
    if thresholds.min_checkout_completion is not None:
        checks.append(check("checkout completion", ">=", thresholds.min_checkout_completion,
                             _ratio(sum(e.successes for e in checkouts),
                                    sum(e.requests for e in checkouts))))
    if thresholds.min_cancel_completion is not None:
        cancel = recorded.row(f"{names.BOOKING} {names.CANCELLED}")
        checks.append(check("cancel completion", ">=", thresholds.min_cancel_completion,
                             _ratio(cancel.successes, cancel.requests) if cancel else None))
    confirmed = recorded.row(f"{names.BOOKING} {names.CONFIRMED}")
    for p, limit in sorted(thresholds.time_to_confirmed_ms.items()):
        checks.append(check(f"p{p} time to confirmed", "<=", limit,
                             confirmed.percentiles.get(p) if confirmed else None, " ms"))
    if thresholds.min_arrival_ratio is not None and target_rate:
        journeys = sum(e.requests for e in recorded.endpoints if e.type == names.JOURNEY)
        achieved = journeys / recorded.duration_s if recorded.duration_s else None
        checks.append(check(f"arrival rate / target {target_rate:g}/s", ">=",
                             thresholds.min_arrival_ratio,
                             achieved / target_rate if achieved is not None else None))
    for key, limits in thresholds.endpoints.items():
        row = recorded.row(key)
        for p, limit in sorted(limits.items()):
            checks.append(check(f"p{p} {key}", "<=", limit,
                                 row.percentiles.get(p) if row else None, " ms"))
    return checks


def verdict(checks: list[Check], *, invariants_hold: bool | None) -> bool:
    """Return whether the run passed: every threshold, and the invariants unless not checked."""
    return all(c.passed for c in checks) and invariants_hold is not False
