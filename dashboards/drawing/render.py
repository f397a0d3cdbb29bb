"""Render dashboards offline: one PNG per widget and an index.html with alarms and changes."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from dashboards.drawing import page, plot
from dashboards.drawing.phases import Phase
from dashboards.drawing.query import MetricReader, fetch
from dashboards.drawing.report import RenderedDashboard, RenderedWidget, Report
from dashboards.drawing.search import MetricCatalog
from dashboards.drawing.source import AlarmState, DashboardSource, Transition


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "widget"


def alarm_name(arn: str) -> str:
    """Return the alarm name in an alarm ARN (or the name itself)."""
    return arn.rsplit(":alarm:", 1)[-1]


def render(dashboards: list[DashboardSource], *, reader: MetricReader, catalog: MetricCatalog,
           alarms: list[AlarmState], transitions: list[Transition], start: datetime,
           end: datetime, scale: float, out: Path, source: str,
           phases: list[Phase] | None = None) -> Report:
    """Query every widget of *dashboards*, draw each (a run's *phases* marked), and write
    out/index.html."""
    marked = phases or []
    out.mkdir(parents=True, exist_ok=True)
    states = {a.name: a for a in alarms}
    rendered = []
    for dashboard in dashboards:
        folder = out / _slug(dashboard.name)
        folder.mkdir(exist_ok=True)
        widgets, placed = [], []
        for index, widget in enumerate(dashboard.body.get("widgets", []), start=1):
            title = widget.get("properties", {}).get("title", f"widget {index}")
            png = folder / f"{index:02d}-{_slug(title)}.png"
            if widget.get("type") == "metric":
                widgets.append(_metric(widget, png, reader=reader, catalog=catalog,
                                       alarms=alarms, transitions=transitions, start=start,
                                       end=end, scale=scale, out=out, phases=marked))
            elif widget.get("type") == "alarm":
                widgets.append(_alarms(widget, png, states=states, transitions=transitions,
                                       start=start, end=end, out=out, phases=marked))
            else:
                continue
            placed.append((widget, png))
        plot.compose(folder / "dashboard.png", placed)
        rendered.append(RenderedDashboard(dashboard.name, widgets, dashboard.unresolved,
                                          str((folder / "dashboard.png").relative_to(out))))
    report = Report(dashboards=rendered, alarms=alarms, transitions=transitions, start=start,
                    end=end, scale=scale, index=out / "index.html", phases=marked)
    report.index.write_text(page.html(report, source=source))
    return report


def _metric(widget: dict[str, Any], png: Path, *, reader: MetricReader,
            catalog: MetricCatalog, alarms: list[AlarmState], transitions: list[Transition],
            start: datetime, end: datetime, scale: float, out: Path,
            phases: list[Phase]) -> RenderedWidget:
    props = widget["properties"]
    data = fetch(props, reader=reader, catalog=catalog, start=start, end=end, scale=scale)
    shown = {s.metric for s in data.series}
    watching = [a for a in alarms if (a.namespace, a.metric) in shown]
    names = {a.name for a in watching}
    spans = [s for a in watching
             for s in plot.spans(transitions, a.name, current=a.state, start=start, end=end)]
    plot.metric_png(png, widget, data, start=start, end=end, alarm_spans=spans,
                    transitions=[t for t in transitions
                                 if t.alarm in names and start <= t.time <= end],
                    phases=phases)
    return RenderedWidget(title=props.get("title", ""), kind="metric",
                          png=str(png.relative_to(out)), has_data=data.has_data,
                          series=[(s.label, len(s.points)) for s in data.series],
                          errors=data.errors)


def _alarms(widget: dict[str, Any], png: Path, *, states: dict[str, AlarmState],
            transitions: list[Transition], start: datetime, end: datetime,
            out: Path, phases: list[Phase]) -> RenderedWidget:
    props = widget["properties"]
    names = [alarm_name(arn) for arn in props.get("alarms", [])]
    rows = [plot.spans(transitions, name,
                       current=states[name].state if name in states else "INSUFFICIENT_DATA",
                       start=start, end=end) for name in names]
    plot.alarms_png(png, widget, rows, names, start=start, end=end, phases=phases)
    missing = [n for n in names if n not in states]
    return RenderedWidget(title=props.get("title", ""), kind="alarm",
                          png=str(png.relative_to(out)), has_data=not missing,
                          series=[(n, 1 if n in states else 0) for n in names],
                          errors=[f"alarm {n} is not in CloudWatch" for n in missing])
