"""Draw one PNG per widget with matplotlib (Agg: no display needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

# Agg before pyplot loads: renders run on servers and in tests, with no display.
matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from PIL import Image

from dashboards.drawing.phases import Phase
from dashboards.drawing.query import WidgetData
from dashboards.drawing.source import Transition

STATE_COLOURS = {"OK": "#2ca02c", "ALARM": "#d62728", "INSUFFICIENT_DATA": "#9e9e9e"}
PHASE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
DPI = 80
LEGEND_CHARS = 40
# One grid unit of the 24-column dashboard grid, in pixels of the composed picture.
CELL_W, CELL_H = 60, 50


@dataclass(frozen=True)
class Span:
    """A stretch of time an alarm spent in one state."""

    alarm: str
    state: str
    start: datetime
    end: datetime


def spans(transitions: list[Transition], alarm: str, *, current: str, start: datetime,
          end: datetime) -> list[Span]:
    """Return *alarm*'s states over [start, end] from its transitions and its current state."""
    mine = sorted((t for t in transitions if t.alarm == alarm), key=lambda t: t.time)
    before = [t for t in mine if t.time <= start]
    inside = [t for t in mine if start < t.time < end]
    if before:
        state = before[-1].new
    elif inside:
        state = inside[0].old
    else:
        state = current
    out, since = [], start
    for change in inside:
        out.append(Span(alarm, state, since, change.time))
        state, since = change.new, change.time
    out.append(Span(alarm, state, since, end))
    return [s for s in out if s.end > s.start]


def _short(label: str) -> str:
    return label if len(label) <= LEGEND_CHARS else label[:LEGEND_CHARS - 1] + "…"


def _size(widget: dict[str, Any]) -> tuple[float, float]:
    return max(4.0, widget.get("width", 8) * 0.55), max(2.5, widget.get("height", 6) * 0.6)


def _time_axis(ax: Any, start: datetime, end: datetime) -> None:
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
    locator = mdates.AutoDateLocator(maxticks=5)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=7)


def _phases(ax: Any, phases: list[Phase]) -> None:
    """Shade each phase of the run and name it at the top of the plot; mark each instant (a
    scaling activity) with a thin line named along it."""
    for mark in (p for p in phases if p.instant):
        at = mdates.date2num(mark.start)
        ax.axvline(at, color="tab:brown", linewidth=0.6, alpha=0.6, linestyle="--")
        ax.text(at, 0.98, mark.name, transform=ax.get_xaxis_transform(), rotation=90,
                ha="right", va="top", fontsize=5, color="tab:brown")
    for index, phase in enumerate(p for p in phases if not p.instant):
        left, right = mdates.date2num(phase.start), mdates.date2num(phase.end)
        colour = PHASE_COLOURS[index % len(PHASE_COLOURS)]
        ax.axvspan(left, right, color=colour, alpha=0.07)
        ax.axvline(left, color=colour, linewidth=0.8)
        ax.text((left + right) / 2, 1.0, phase.name, transform=ax.get_xaxis_transform(),
                ha="center", va="bottom", fontsize=6, color=colour)


def metric_png(path: Path, widget: dict[str, Any], data: WidgetData, *, start: datetime,
               end: datetime, alarm_spans: list[Span], transitions: list[Transition],
               phases: list[Phase] | None = None) -> None:
    """Draw a metric widget: its series, thresholds, and the ALARM spans of its alarms."""
    props = widget["properties"]
    fig, ax = plt.subplots(figsize=_size(widget), dpi=DPI)
    try:
        ax.set_title(props.get("title", ""), fontsize=9)
        if props.get("view") == "bar":
            labels = [s.label for s in data.series]
            ax.bar(labels, [sum(v for _, v in s.points) for s in data.series])
            ax.tick_params(labelsize=7)
        else:
            for series in data.series:
                if series.points:
                    times, values = zip(*series.points, strict=True)
                    ax.plot(times, values, marker=".", linewidth=1.2, label=series.label)
                else:
                    ax.plot([], [], label=f"{series.label} (no data)")
            _time_axis(ax, start, end)
            _phases(ax, phases or [])
            for span in alarm_spans:
                if span.state == "ALARM":
                    ax.axvspan(mdates.date2num(span.start), mdates.date2num(span.end),
                               color=STATE_COLOURS["ALARM"], alpha=0.15)
            for change in transitions:
                ax.axvline(mdates.date2num(change.time),
                           color=STATE_COLOURS.get(change.new, "grey"), linestyle=":",
                           linewidth=1)
        for mark in props.get("annotations", {}).get("horizontal", []):
            ax.axhline(float(mark["value"]), color="#ff7f0e", linestyle="--", linewidth=1,
                       label=mark.get("label"))
        left = props.get("yAxis", {}).get("left", {})
        ax.set_ylim(bottom=left.get("min"), top=left.get("max"))
        if "label" in left:
            ax.set_ylabel(left["label"], fontsize=8)
        if not data.has_data:
            ax.text(0.5, 0.5, "no data in this range", transform=ax.transAxes, ha="center",
                    va="center", color="grey")
        handles, labels = ax.get_legend_handles_labels()
        if labels:
            ax.legend(handles, [_short(label) for label in labels], fontsize=6, loc="upper left")
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def alarms_png(path: Path, widget: dict[str, Any], rows: list[list[Span]], names: list[str], *,
               start: datetime, end: datetime, phases: list[Phase] | None = None) -> None:
    """Draw an alarm widget as a timeline: one band per alarm, coloured by state."""
    fig, ax = plt.subplots(figsize=_size(widget), dpi=DPI)
    try:
        ax.set_title(widget["properties"].get("title", ""), fontsize=9)
        for index, row in enumerate(rows):
            for span in row:
                ax.broken_barh([(mdates.date2num(span.start),
                                 mdates.date2num(span.end) - mdates.date2num(span.start))],
                               (index - 0.4, 0.8), color=STATE_COLOURS.get(span.state, "grey"))
        ax.set_yticks(range(len(names)), names, fontsize=6)
        ax.set_ylim(max(0.5, len(names) - 0.5), -0.5)  # first alarm on top, as listed
        _time_axis(ax, start, end)
        _phases(ax, phases or [])
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)


def compose(path: Path, placed: list[tuple[dict[str, Any], Path]]) -> None:
    """Lay the widget PNGs out as the dashboard's grid places them, in one picture."""
    bottom = max((w.get("y", 0) + w.get("height", 6) for w, _ in placed), default=1)
    canvas = Image.new("RGB", (24 * CELL_W, bottom * CELL_H), "white")
    for widget, png in placed:
        size = (widget.get("width", 8) * CELL_W, widget.get("height", 6) * CELL_H)
        with Image.open(png) as picture:
            tile = picture.convert("RGB").resize(size, Image.Resampling.LANCZOS)
        canvas.paste(tile, (widget.get("x", 0) * CELL_W, widget.get("y", 0) * CELL_H))
    canvas.save(path)
