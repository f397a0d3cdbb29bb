"""The raw datapoint store: every sample the stack recorded, so percentiles can be computed.

One SQLite file at <state_dir>/run/metrics.sqlite in WAL mode: the metrics agent writes,
any process (alarms, dashboards, tests) reads at the same time.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from localaws.cloudwatch.emf import Datum, Dimensions
from localaws.cloudwatch.stats import statistic

SCHEMA = """
CREATE TABLE IF NOT EXISTS datapoints (
    namespace TEXT NOT NULL, name TEXT NOT NULL, dimensions TEXT NOT NULL,
    ts REAL NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS datapoints_metric ON datapoints (namespace, name, dimensions, ts);
"""


def store_path(state_dir: Path) -> Path:
    """Return where the stack at *state_dir* keeps its raw datapoints."""
    return state_dir / "run" / "metrics.sqlite"


def _key(dimensions: Dimensions) -> str:
    return json.dumps([list(pair) for pair in sorted(dimensions)], separators=(",", ":"))


def _seconds(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


class MetricStore:
    """Put raw datapoints and compute CloudWatch statistics from them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=10, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def put(self, data: Iterable[Datum]) -> int:
        """Store every value of *data*; return how many values were stored."""
        rows = [(d.namespace, d.name, _key(d.dimensions), d.timestamp, value, d.unit)
                for d in data for value in d.values]
        if rows:
            with self._lock:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT INTO datapoints VALUES (?, ?, ?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
        return len(rows)

    def prune(self, before: float) -> int:
        """Drop samples older than *before* (epoch seconds); return how many went."""
        with self._lock:
            return self._db.execute("DELETE FROM datapoints WHERE ts < ?", (before,)).rowcount

    def values(self, namespace: str, name: str, dimensions: Dimensions, start: datetime,
               end: datetime, *, unit: str | None = None) -> list[tuple[float, float]]:
        """Return the (timestamp, value) samples of one exact metric in [start, end)."""
        sql = ("SELECT ts, value FROM datapoints WHERE namespace = ? AND name = ? "
               "AND dimensions = ? AND ts >= ? AND ts < ?")
        args: list[object] = [namespace, name, _key(dimensions), _seconds(start), _seconds(end)]
        if unit:
            sql += " AND unit = ?"
            args.append(unit)
        with self._lock:
            return list(self._db.execute(sql + " ORDER BY ts", args))

    def query(self, namespace: str, name: str, dimensions: Dimensions, *, period: int,
              stat: str, start: datetime, end: datetime, unit: str | None = None
              ) -> list[tuple[datetime, float]]:
        """Return *stat* per period over [start, end), oldest first; empty periods are left out.

        Periods start at *start* (whole seconds) and step by *period*, as moto's
        GetMetricData does, so the store's points line up with moto's for other statistics.
        """
        first = (start if start.tzinfo else start.replace(tzinfo=UTC)).replace(microsecond=0)
        samples = self.values(namespace, name, dimensions, first, end, unit=unit)
        buckets: dict[int, list[float]] = {}
        origin = first.timestamp()
        for ts, value in samples:
            buckets.setdefault(int((ts - origin) // period), []).append(value)
        out = []
        for index in sorted(buckets):
            result = statistic(stat, buckets[index])
            if result is not None:
                out.append((first + timedelta(seconds=index * period), result))
        return out
