"""Read locust's CSV output (`--csv PREFIX --csv-full-history`) into plain records."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

PERCENTILES = (50, 95, 99)
AGGREGATED = "Aggregated"


def _number(raw: str | None) -> float | None:
    if raw in (None, "", "N/A"):
        return None
    return float(raw)


def _percentiles(row: dict[str, str]) -> dict[int, float | None]:
    return {p: _number(row.get(f"{p}%")) for p in PERCENTILES}


@dataclass(frozen=True, kw_only=True)
class EndpointStats:
    """One row of `*_stats.csv`: a request type and name over the whole run."""

    type: str
    name: str
    requests: int
    failures: int
    rps: float
    max_ms: float | None
    percentiles: dict[int, float | None] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Return how thresholds name this row: `METHOD name`, e.g. `GET /v1/flights`."""
        return f"{self.type} {self.name}".strip()

    @property
    def successes(self) -> int:
        """Return the requests that did not fail."""
        return self.requests - self.failures


def parse_stats(text: str) -> list[EndpointStats]:
    """Return the rows of locust's `*_stats.csv` text, the aggregated row included."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        rows.append(EndpointStats(
            type=row["Type"], name=row["Name"], requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]), rps=float(row["Requests/s"]),
            max_ms=_number(row["Max Response Time"]), percentiles=_percentiles(row)))
    return rows


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One second of one row of `*_stats_history.csv` (percentiles over locust's 10 s window)."""

    t: int
    users: int
    requests: int  # cumulative
    failures: int  # cumulative
    percentiles: dict[int, float | None]


def parse_history(text: str) -> dict[str, list[Sample]]:
    """Return the samples of `*_stats_history.csv` by row key, in time order."""
    series: dict[str, list[Sample]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(text)):
        key = f"{row['Type']} {row['Name']}".strip()
        series[key].append(Sample(
            t=int(row["Timestamp"]), users=int(row["User Count"]),
            requests=int(row["Total Request Count"]),
            failures=int(row["Total Failure Count"]), percentiles=_percentiles(row)))
    return dict(series)


def per_second(samples: list[Sample], *, failures: bool = False, successes: bool = False,
               window: int = 5) -> list[tuple[int, float]]:
    """Return (time, rate) from cumulative counts, averaged over *window* seconds.

    Differences of cumulative counts are exact; a window smooths the steps a distributed run
    makes (workers report every few seconds).
    """
    out = []
    for i, s in enumerate(samples):
        j = i
        while j > 0 and s.t - samples[j - 1].t <= window:
            j -= 1
        if j == i:
            continue
        first = samples[j]

        def count(x: Sample) -> int:
            if failures:
                return x.failures
            return x.requests - x.failures if successes else x.requests
        out.append((s.t, (count(s) - count(first)) / (s.t - first.t)))
    return out


@dataclass(frozen=True)
class Recorded:
    """What locust wrote for one run."""

    endpoints: list[EndpointStats]
    history: dict[str, list[Sample]]

    @property
    def duration_s(self) -> float:
        """Return the seconds between the first and the last history sample."""
        total = self.history.get(AGGREGATED, [])
        return float(total[-1].t - total[0].t) if len(total) > 1 else 0.0

    def row(self, key: str) -> EndpointStats | None:
        """Return the row called *key* (`METHOD name`), if the run made that request."""
        return next((e for e in self.endpoints if e.key == key), None)


def read_recorded(prefix: Path) -> Recorded:
    """Read `PREFIX_stats.csv` and `PREFIX_stats_history.csv`."""
    stats = Path(f"{prefix}_stats.csv").read_text()
    history_path = Path(f"{prefix}_stats_history.csv")
    history = history_path.read_text() if history_path.exists() else ""
    return Recorded(endpoints=parse_stats(stats), history=parse_history(history))
