"""A run's phases on the dashboards: a load run's window, a game day's before, fault and
after, read from the run's report folder (`summary.json` of `itinera load`, `result.json` of
`itinera gameday run`), so `itinera dashboard render --run DIR` draws that window; and the
services' scaling activities during it (the folder's `scaling.json`), each an instant marked
on every graph."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from loadtests import scaling


@dataclass(frozen=True)
class Phase:
    """A named stretch of a run, shaded and labelled on every time-series widget."""

    name: str
    start: datetime
    end: datetime
    # A moment (a scaling activity), not a stretch: a line, not a shaded span.
    instant: bool = False


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def phases_of_run(folder: Path) -> list[Phase]:
    """Return the phases of the run whose report is *folder*, then its scaling activities,
    each in time order."""
    return _stretches(folder) + activities_of_run(folder)


def activities_of_run(folder: Path) -> list[Phase]:
    """Return each scaling activity of the run as an instant (`gateway -> 5`)."""
    services = scaling.read(folder) or {}
    marks = [Phase(f"{name} -> {scaling.desired_of(a)}", _at(a["at"]), _at(a["at"]),
                   instant=True)
             for name, record in services.items() for a in record.activities]
    return sorted(marks, key=lambda m: m.start)


def _stretches(folder: Path) -> list[Phase]:
    gameday, load = folder / "result.json", folder / "summary.json"
    if gameday.exists():
        doc = json.loads(gameday.read_text())
        window = doc.get("load_window")
        if not window:
            raise ValueError(f"{gameday} has no load window (a game day from before it was "
                             f"recorded); use --start and --end")
        start, end = float(window[0]), float(window[1])
        fault = doc.get("fault_window")
        if not fault:
            return [Phase("load (no fault)", _at(start), _at(end))]
        fault_start = float(fault[0])
        # The fault phase lasts as the hypotheses' "during" windows say (a stop-task has no
        # duration: its effect lasts while the service recovers).
        during = [h["window"] for h in doc.get("hypotheses", []) if h.get("phase") == "during"]
        fault_end = max([float(w[1]) for w in during] + [float(fault[1])])
        return [p for p in (Phase("before", _at(start), _at(fault_start)),
                            Phase("fault", _at(fault_start), _at(min(fault_end, end))),
                            Phase("after", _at(min(fault_end, end)), _at(end)))
                if p.end > p.start]
    if load.exists():
        doc = json.loads(load.read_text())
        started = datetime.fromisoformat(doc["started_at"])
        finished = datetime.fromisoformat(doc["finished_at"])
        return [Phase(f"load: {doc.get('scenario', 'run')}", started, finished)]
    raise ValueError(f"{folder} holds neither a game day's result.json nor a load run's "
                     f"summary.json")
