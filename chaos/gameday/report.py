"""The game day's report: report.md (tables and timeline) and index.html with the figure."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.gameday.alarms import alarm_transitions
from chaos.gameday.run import Result
from loadtests import scaling


def _clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S.%f")[:-3]


def _fmt(value: float | None) -> str:
    return "no data" if value is None else f"{value:.4g}"


def markdown(result: Result, transitions: list[dict[str, Any]]) -> str:
    """Return report.md's text."""
    r, out = result, []
    out.append(f"# Game day: {r.experiment.name}: **{'PASS' if r.passed else 'FAIL'}**\n")
    out.append(f"{r.experiment.template['description']}\n")
    out.append(f"- target: {r.target} (stage {r.stage})")
    out.append(f"- experiment state: **{r.outcome.state}** {r.outcome.reason}")
    out.append(f"- FIS: deployed template {r.fis.get('template_id')}, this run's copy "
               f"{r.fis.get('run_template_id')} (deleted after), experiment "
               f"{r.fis.get('experiment_id')}")
    out.append(f"- load: {r.load_end - r.load_start:.0f} s of `{r.experiment.load}` from "
               f"{_clock(r.load_start)} UTC, from {len(r.tasks)} ECS task(s) "
               f"(a master and its workers)")
    if r.load_stopped:
        out.append("- **the load was stopped with the experiment** (a stop condition fired, "
                   "or the experiment was stopped): the figures end there")
    if r.load_error:
        out.append(f"- **load error**: {r.load_error}")
    out.append(f"- time scale: {r.scale:g} (FIS durations and CloudWatch periods run that much "
               f"faster locally; ITINERA_TIME_SCALE; 1 on AWS)")
    if r.fault_window:
        out.append(f"- fault window: {_clock(r.fault_window[0])} to "
                   f"{_clock(r.fault_window[1])} UTC (shaded in the figure)")
    out.append("\n## Hypotheses\n")
    out.append("| phase | expected | window (s from load start) | observed | verdict |")
    out.append("| --- | --- | --- | --- | --- |")
    for v in r.verdicts:
        lo, hi = (w - r.load_start for w in v.window)
        out.append(f"| {v.hypothesis.phase} | {v.expected} | {lo:.0f}-{hi:.0f} | "
                   f"{_fmt(v.observed)} | {'holds' if v.holds else '**breached**'} |")
    if not r.verdicts:
        out.append("| | no hypothesis could be judged (no load data or no fault) | | | fail |")
    out.append("\n## Actions\n")
    out.append("| action | FIS action id | after | AWS duration | local duration |")
    out.append("| --- | --- | --- | --- | --- |")
    for a in r.actions:
        out.append(f"| {a.name} | {a.action_id} | {', '.join(a.start_after) or '-'} | "
                   f"{a.aws_duration_s:g} s | {a.local_duration_s:g} s |")
    out.append("\n## Timeline (UTC)\n")
    rows = [(e.at, e.kind, e.action, e.detail) for e in r.outcome.events]
    rows += [(t["at"], "alarm", t["alarm"], f"{t['old']} -> {t['new']}: {t['reason']}")
             for t in transitions]
    for at, kind, what, detail in sorted(rows):
        out.append(f"- {_clock(at)} **{kind}** {what}: {detail}")
    out.append("\n## Recovery\n")
    recovered = [t for t in transitions if t["new"] == "OK"]
    out.append("\n".join(f"- {t['alarm']} OK again at {_clock(t['at'])}" for t in recovered)
               or "- no alarm went back to OK during the run (none fired, or none recovered)")
    out.append("\n## Scaling (ECS, Application Auto Scaling)\n")
    out += scaling_lines(r.folder, r.load_start)
    out.append("\n## Invariant check (`itinera check`)\n")
    inv = r.invariants.as_dict()
    out.append(f"- holds: **{inv['holds']}** after {inv['attempts']} look(s) in "
               f"{inv['seconds']} s {inv['error'] or ''}")
    out += [f"  - invariant {v['invariant']}: {v['detail']}" for v in inv["violations"][:20]]
    out.append("\n## Dashboards of this run\n")
    out.append("`itinera dashboard render --run <this folder>` draws the stage's CloudWatch "
               "dashboards over this run's window, its phases marked: "
               "[dashboards/index.html](dashboards/index.html).")
    out.append("\n![game day](gameday.png)\n")
    return "\n".join(out) + "\n"


def scaling_lines(folder: Path, load_start: float) -> list[str]:
    """Return the report's scaling table: each service's tasks and healthy targets per AZ
    at the start, the lowest and the highest, and each scaling activity with its cause."""
    services = scaling.read(folder)
    if not services:
        return ["- not recorded (see the runner's output)"]
    out = ["| service | desired (start, min, max) | running (start, min, max) | healthy "
           "targets per AZ (min) |", "| --- | --- | --- | --- |"]
    for name, record in sorted(services.items()):
        def span(points: list[tuple[float, float]]) -> str:
            values = [v for _, v in points]
            return f"{values[0]:g}, {min(values):g}, {max(values):g}" if values else "-"
        healthy = ", ".join(f"{az}: {min(v for _, v in points):g}"
                            for az, points in sorted(record.healthy.items()) if points)
        out.append(f"| {name} | {span(record.desired)} | {span(record.running)} | "
                   f"{healthy or '-'} |")
    out += [f"- {a['at'] - load_start:+.0f} s {name}: {a['description']} {a['cause']}"
            for name, record in sorted(services.items()) for a in record.activities]
    return out


def write(result: Result, cloudwatch: Any) -> Path:
    """Write report.md, gameday.png and index.html into the result's folder; the alarm
    transitions and series come from *cloudwatch* (the target's)."""
    from chaos.gameday.plots import cloudwatch_series, write_figure

    end = result.load_end + 5
    transitions = alarm_transitions(cloudwatch, result.load_start - 5, end,
                                    prefix=f"itinera-{result.stage}-")
    text = markdown(result, transitions)
    (result.folder / "report.md").write_text(text)
    try:
        series = cloudwatch_series(cloudwatch, result.load_start - 5, end)
    except Exception as exc:  # the figure still shows the load run without CloudWatch
        series = {}
        text += f"\n(CloudWatch series unavailable: {exc!r})\n"
    write_figure(result.folder, result.recorded, series, result.fault_window)
    page = ("<!doctype html><meta charset=utf-8><title>game day "
            f"{html.escape(result.experiment.name)}</title><body style='font-family:sans-serif;"
            f"max-width:60em'><pre style='white-space:pre-wrap'>{html.escape(text)}</pre>"
            "<img src='gameday.png' style='max-width:100%'></body>")
    (result.folder / "index.html").write_text(page)
    return result.folder
