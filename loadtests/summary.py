"""The summary of a judged run: JSON for scripts, and a table a person reads at a glance."""

from __future__ import annotations

from typing import Any

from loadtests import names
from loadtests.invariants import InvariantResult
from loadtests.judge import Check
from loadtests.stats import AGGREGATED, Recorded, per_second


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def bookings(recorded: Recorded) -> dict[str, Any]:
    """Return checkouts started, confirmed, not as expected, and confirmed per second."""
    checkouts = [e for e in recorded.endpoints
                 if e.type == names.BOOKING and e.name != names.CANCELLED]
    confirmed_rows = [f"{names.BOOKING} {n}" for n in (names.CONFIRMED,
                                                       names.CONFIRMED_AFTER_RETRY)]
    confirmed = sum(r.successes for k in confirmed_rows if (r := recorded.row(k)))
    rates = per_second(recorded.history.get(confirmed_rows[0], []), successes=True)
    return {"checkouts": sum(e.requests for e in checkouts),
            "as_expected": sum(e.successes for e in checkouts),
            "not_as_expected": sum(e.failures for e in checkouts), "confirmed": confirmed,
            "confirmed_per_second": round(confirmed / recorded.duration_s, 2)
            if recorded.duration_s else None,
            "confirmed_per_second_peak": round(max((r for _, r in rates), default=0.0), 2)}


def build(*, scenario: str, parameters: dict[str, Any], checks: list[Check],
          invariants: InvariantResult, recorded: Recorded, passed: bool,
          extra: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON summary of a judged run."""
    return {
        "scenario": scenario, "verdict": "pass" if passed else "fail",
        "parameters": parameters, **extra,
        "duration_s": recorded.duration_s,
        "thresholds": [c.as_dict() for c in checks],
        "invariants": invariants.as_dict(),
        "bookings": bookings(recorded),
        "endpoints": [{"type": e.type, "name": e.name, "requests": e.requests,
                       "failures": e.failures, "rps": round(e.rps, 2),
                       "p50_ms": e.percentiles.get(50), "p95_ms": e.percentiles.get(95),
                       "p99_ms": e.percentiles.get(99), "max_ms": e.max_ms}
                      for e in recorded.endpoints],
    }


def table(summary: dict[str, Any]) -> str:
    """Return the terminal summary: verdict, endpoints, thresholds, invariants."""
    p = summary["parameters"]
    rate = f", {p['rate']:g} journeys/s (open model)" if p.get("rate") else ""
    lines = [f"itinera load {summary['scenario']}: {summary['verdict'].upper()}   "
             f"({p['users']} users, {p['duration_s']:g} s, {p['shape']}{rate}; {p['host']})",
             "", f"{'request':<56} {'count':>7} {'fail%':>6} {'p50':>7} {'p95':>7} {'p99':>7}"
                 f" {'per s':>6}"]
    rows = [e for e in summary["endpoints"] if e["name"] != AGGREGATED]
    order = {names.BOOKING: 1, names.JOURNEY: 2}
    rows.sort(key=lambda e: (order.get(e["type"], 0), e["name"], e["type"]))
    for e in rows:
        label = f"{e['type']} {e['name']}"
        fail = 100 * e["failures"] / e["requests"] if e["requests"] else 0.0
        lines.append(f"{label[:56]:<56} {e['requests']:>7} {fail:>5.1f}% {_ms(e['p50_ms']):>7}"
                     f" {_ms(e['p95_ms']):>7} {_ms(e['p99_ms']):>7} {e['rps']:>6.1f}")
    http = [e for e in rows if e["type"] not in names.OUTCOME_TYPES]
    count, failed = sum(e["requests"] for e in http), sum(e["failures"] for e in http)
    lines.append(f"{'HTTP requests':<56} {count:>7} "
                 f"{100 * failed / count if count else 0.0:>5.1f}% {'':>23} "
                 f"{sum(e['rps'] for e in http):>6.1f}")
    lines += ["", "(milliseconds; BOOKING rows time POST /v1/bookings to the status named; "
                  "JOURNEY rows are whole journeys)", "",
              f"{'threshold':<56} {'expected':>14} {'observed':>12}  result"]
    for c in summary["thresholds"]:
        observed = "none" if c["observed"] is None else (
            f"{c['observed']:,.0f} {c['unit']}" if c["unit"] in ("ms", "s")
            else f"{c['observed']:.3f}")
        lines.append(f"{c['name'][:56]:<56} {c['expected']:>14} {observed:>12}  "
                     f"{'ok' if c['passed'] else 'FAIL'}")
    inv = summary["invariants"]
    b = summary["bookings"]
    lines.append("")
    if inv.get("error"):
        lines.append(f"invariants (itinera check): FAILED TO RUN: {inv['error']}")
    elif inv["ran"]:
        state = "all hold" if inv["holds"] else f"{len(inv['violations'])} violation(s)"
        lines.append(f"invariants (itinera check): {state}; oversold {inv['oversold']}, "
                     f"lost {inv['lost']}, doubled {inv['doubled']} "
                     f"(after {inv['seconds']:g} s, {inv['attempts']} look(s))")
        lines += [f"  invariant {v['invariant']}: {v['detail']}" for v in inv["violations"][:10]]
    else:
        lines.append(f"invariants: not checked ({inv['reason']})")
    lines.append(f"bookings: {b['checkouts']} checkouts, {b['confirmed']} confirmed "
                 f"({b['confirmed_per_second']}/s, peak {b['confirmed_per_second_peak']}/s), "
                 f"{b['not_as_expected']} not as expected")
    for service, seen in sorted(summary.get("scaling", {}).items()):
        lines.append(f"scaling {service}: peak {seen['peak_running']} running "
                     f"({seen['peak_desired']} desired), {seen['final_desired']} at the end, "
                     f"{len(seen['activities'])} activities")
        lines += [f"  {a}" for a in seen["activities"][:8]]
    return "\n".join(lines)
