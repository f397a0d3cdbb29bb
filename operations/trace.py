"""`itinera trace BOOKING_ID`: one booking's log lines from every service, in time order.

A booking's lines are found in two passes, as one would in CloudWatch Logs Insights: first
the lines that name the booking (its id in a field or a path), which give the request ids
and X-Ray trace ids that touched it; then every line carrying one of those ids (the
gateway's request line, the checkout API's, the worker's and the notifier's).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

# Fields whose value names the booking a line is about.
_BOOKING_FIELDS = ("booking_id",)
# Fields that tie lines of one request, or one trace, together across services.
_LINK_FIELDS = ("request_id", "trace_id")


@dataclass(frozen=True)
class LogLine:
    """One JSON log line and the file (process) it came from."""

    source: str
    entry: dict[str, Any]

    @property
    def ts(self) -> str:
        """Return the line's ISO 8601 time (sortable as text: all UTC, same precision)."""
        return str(self.entry.get("ts", ""))


def read_lines(log_dir: Path) -> Iterator[LogLine]:
    """Yield every JSON object line of every log file under *log_dir*."""
    for path in sorted(log_dir.glob("*.log")):
        with path.open("rb") as handle:
            for raw in handle:
                if not raw.startswith(b"{"):
                    continue
                try:
                    entry = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue  # a line cut short by a killed process
                if isinstance(entry, dict) and "ts" in entry:
                    yield LogLine(source=path.stem, entry=entry)


def _names_booking(entry: dict[str, Any], booking_id: str) -> bool:
    if any(entry.get(field) == booking_id for field in _BOOKING_FIELDS):
        return True
    path = entry.get("path")
    return isinstance(path, str) and booking_id in path


def booking_trace(lines: Iterable[LogLine], booking_id: str) -> list[LogLine]:
    """Return the lines about *booking_id* or its requests and traces, oldest first."""
    kept = list(lines)
    links = {(field, line.entry[field]) for line in kept
             if _names_booking(line.entry, booking_id)
             for field in _LINK_FIELDS if line.entry.get(field)}
    chosen = [line for line in kept
              if _names_booking(line.entry, booking_id)
              or any((field, line.entry.get(field)) in links for field in _LINK_FIELDS)]
    return sorted(chosen, key=lambda line: line.ts)


def render(lines: list[LogLine]) -> str:
    """Return the lines as a readable table: time, process, message and the useful fields."""
    shown = ("request_id", "trace_id", "booking_id", "method", "path", "route", "status",
             "duration_ms", "event_type")
    rows = []
    for line in lines:
        e = line.entry
        fields = " ".join(f"{k}={e[k]}" for k in shown if k in e)
        rows.append(f"{line.ts}  {line.source:<24} {e.get('level', ''):<7} "
                    f"{e.get('message', '')}  {fields}")
    return "\n".join(rows)
