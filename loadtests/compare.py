"""`itinera load compare A B`: how run B differs from run A, endpoint by endpoint, and whether
it regressed beyond what the thresholds file's `regression:` block allows.

Both runs are read from their folders' summary.json (what `itinera load` wrote). Only what
both measured is compared: an endpoint one run did not reach is listed, not judged. A
latency regression is relative (B's percentile over A's) and ignores differences under a
floor in milliseconds, so two quick runs do not fail on a millisecond of noise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loadtests import names
from loadtests.checks import Check, check
from loadtests.stats import AGGREGATED

REGRESSION_KEYS = {"max_latency_increase", "latency_floor_ms", "max_rate_drop",
                   "max_failure_ratio_increase", "max_time_to_confirmed_increase"}
PERCENTILES = ("p50", "p95", "p99")


@dataclass(frozen=True, kw_only=True)
class Regression:
    """How much worse run B may be than run A (ratios: 0.25 is 25% worse)."""

    max_latency_increase: float | None = None
    latency_floor_ms: float = 0.0
    max_rate_drop: float | None = None
    max_failure_ratio_increase: float | None = None
    max_time_to_confirmed_increase: float | None = None


def parse_regression(document: dict[str, Any]) -> Regression:
    """Return the `regression:` block of a thresholds document (empty: nothing judged)."""
    raw = document.get("regression") or {}
    unknown = set(raw) - REGRESSION_KEYS
    if unknown:
        raise ValueError(f"regression: unknown key(s) {', '.join(sorted(unknown))}; known: "
                         f"{', '.join(sorted(REGRESSION_KEYS))}")
    return Regression(**{k: float(v) for k, v in raw.items()})


def load_regression(path: Path) -> Regression:
    """Return the regression limits of the thresholds file at *path*."""
    return parse_regression(yaml.safe_load(path.read_text()) or {})


@dataclass(frozen=True, kw_only=True)
class Row:
    """One endpoint (or outcome) in both runs."""

    key: str
    a: dict[str, Any] | None
    b: dict[str, Any] | None

    def value(self, run: str, field: str) -> float | None:
        """Return *field* of run "a" or "b" (None when that run did not measure it)."""
        entry = self.a if run == "a" else self.b
        if entry is None:
            return None
        if field == "failure_ratio":
            return entry["failures"] / entry["requests"] if entry["requests"] else None
        value = entry.get(field)
        return None if value is None else float(value)


def read_summary(folder: Path) -> dict[str, Any]:
    """Return the summary.json of the run in *folder*."""
    path = folder / "summary.json"
    if not path.exists():
        raise SystemExit(f"{folder} is not a judged load run (no summary.json)")
    return dict(json.loads(path.read_text()))


def rows(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    """Return every endpoint and booking outcome of either run, HTTP endpoints first."""
    def keyed(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {f"{e['type']} {e['name']}".strip(): e for e in summary["endpoints"]
                if e["name"] != AGGREGATED and e["type"] != names.JOURNEY}

    left, right = keyed(a), keyed(b)
    order = sorted(set(left) | set(right),
                   key=lambda k: (k.split(" ", 1)[0] in names.OUTCOME_TYPES, k))
    return [Row(key=k, a=left.get(k), b=right.get(k)) for k in order]


def _increase(before: float | None, after: float | None) -> float | None:
    if before is None or after is None:
        return None
    if before == 0:
        return 0.0 if after == 0 else float("inf")
    return after / before - 1


def judge(table: list[Row], limits: Regression) -> list[Check]:
    """Return one check per limit and endpoint both runs measured."""
    checks = []
    for row in table:
        if row.a is None or row.b is None:
            continue
        outcome = row.key.split(" ", 1)[0] == names.BOOKING
        latency_limit = (limits.max_time_to_confirmed_increase if outcome
                         else limits.max_latency_increase)
        for p in PERCENTILES if latency_limit is not None else ():
            before, after = row.value("a", f"{p}_ms"), row.value("b", f"{p}_ms")
            if before is None or after is None:
                continue
            grown = (0.0 if after - before < limits.latency_floor_ms
                     else _increase(before, after))
            checks.append(check(f"{p} {row.key}: increase over A", "<=",
                                float(latency_limit or 0), grown))
        if limits.max_rate_drop is not None and not outcome:
            rate_a, rate_b = row.value("a", "rps"), row.value("b", "rps")
            drop = (1 - rate_b / rate_a) if rate_a and rate_b is not None else None
            checks.append(check(f"rate {row.key}: drop from A", "<=", limits.max_rate_drop,
                                drop))
        if limits.max_failure_ratio_increase is not None:
            before, after = row.value("a", "failure_ratio"), row.value("b", "failure_ratio")
            grown = None if before is None or after is None else after - before
            checks.append(check(f"failures {row.key}: ratio increase over A", "<=",
                                limits.max_failure_ratio_increase, grown))
    return checks


def _cell(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}{unit}" if unit == "/s" else f"{value:,.0f}{unit}"


def _delta(before: float | None, after: float | None) -> str:
    change = _increase(before, after)
    if change is None:
        return ""
    return "new" if change == float("inf") else f"{change:+.0%}"


def text(a_name: str, b_name: str, table: list[Row], checks: list[Check]) -> str:
    """Return the terminal comparison: per endpoint A, B and the change, then the verdict."""
    lines = [f"A: {a_name}", f"B: {b_name}", "",
             f"{'endpoint':<44} {'':>4} {'rate':>8} {'fail%':>6} {'p50':>7} {'p95':>7} "
             f"{'p99':>7}"]
    for row in table:
        for run, entry in (("A", row.a), ("B", row.b)):
            key = row.key[:44] if run == "A" else ""
            if entry is None:
                lines.append(f"{key:<44} {run:>4} {'(not measured)':>30}")
                continue
            ratio = row.value(run.lower(), "failure_ratio")
            lines.append(f"{key:<44} {run:>4} {_cell(entry.get('rps'), '/s'):>8} "
                         f"{(ratio or 0) * 100:>5.1f}% {_cell(entry.get('p50_ms')):>7} "
                         f"{_cell(entry.get('p95_ms')):>7} {_cell(entry.get('p99_ms')):>7}")
        if row.a is not None and row.b is not None:
            changes = [_delta(row.value("a", f"{p}_ms"), row.value("b", f"{p}_ms"))
                       for p in PERCENTILES]
            lines.append(f"{'':<44} {'B/A':>4} "
                         f"{_delta(row.value('a', 'rps'), row.value('b', 'rps')):>8} {'':>6} "
                         + " ".join(f"{c:>7}" for c in changes))
    failed = [c for c in checks if not c.passed]
    lines += ["", f"regression checks: {len(checks) - len(failed)} of {len(checks)} within "
                  f"the limits" if checks else "regression checks: none set (regression: in "
                                                 "the thresholds file)"]
    lines += [f"  REGRESSED {c.name}: {c.observed:+.0%} (limit {c.limit:g})"
              if c.observed is not None else f"  REGRESSED {c.name}: not measured"
              for c in failed]
    return "\n".join(lines)


def plot(a_name: str, b_name: str, table: list[Row], path: Path) -> Path:
    """Draw compare.png: p95 and request rate of each endpoint both runs measured, A beside B."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    both = [r for r in table if r.a is not None and r.b is not None]
    fig, axes = plt.subplots(1, 2, figsize=(13, max(3.0, 0.5 * len(both) + 1.5)),
                             layout="constrained")
    positions = range(len(both))
    for ax, field, title in ((axes[0], "p95_ms", "p95 (ms)"),
                             (axes[1], "rps", "requests per second")):
        ax.barh([p + 0.2 for p in positions], [r.value("a", field) or 0 for r in both],
                height=0.4, label=f"A {a_name}")
        ax.barh([p - 0.2 for p in positions], [r.value("b", field) or 0 for r in both],
                height=0.4, label=f"B {b_name}")
        ax.set_yticks(list(positions), [r.key for r in both], fontsize="small")
        ax.set(title=title)
    axes[0].legend(fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def compare(a: Path, b: Path, *, thresholds: Path, out: Path | None = None
            ) -> tuple[str, list[Check]]:
    """Compare run folders *a* and *b*; write compare.json and compare.png to *out* (B's
    folder by default); return the text and the regression checks."""
    first, second = read_summary(a), read_summary(b)
    table = rows(first, second)
    checks = judge(table, load_regression(thresholds))
    out = out or b
    (out / "compare.json").write_text(json.dumps({
        "a": str(a), "b": str(b), "thresholds_file": str(thresholds),
        "rows": [{"key": r.key, "a": r.a, "b": r.b} for r in table],
        "checks": [c.as_dict() for c in checks]}, indent=1))
    plot(a.name, b.name, table, out / "compare.png")
    return text(a.name, b.name, table, checks) + scaling_text(first, second), checks


def scaling_text(a: dict[str, Any], b: dict[str, Any]) -> str:
    """Return each service's tasks at the peak and scaling activities in both runs (what
    the services did differs as much as what the travellers saw)."""
    left, right = a.get("scaling") or {}, b.get("scaling") or {}
    lines = [f"  {name}: A {left.get(name, {}).get('peak_running', '-')}, "
             f"B {right.get(name, {}).get('peak_running', '-')} tasks at the peak; "
             f"{len(left.get(name, {}).get('activities', []))} and "
             f"{len(right.get(name, {}).get('activities', []))} scaling activities"
             for name in sorted(set(left) | set(right))]
    return ("\n\nscaling:\n" + "\n".join(lines)) if lines else ""
