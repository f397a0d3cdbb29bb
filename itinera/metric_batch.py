"""Counts and timings gathered in memory and written as EMF lines once a second.

A request adds to a dict; a background task writes what gathered, so a busy service prints a
few lines a second instead of one per request. Timings keep every value (EMF value arrays of
up to 100), so CloudWatch computes true percentiles from them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from itinera.metrics import emf

FLUSH_INTERVAL_S = 1.0
MAX_VALUES_PER_LINE = 100  # the EMF specification's limit on a metric's value array

Dimensions = tuple[tuple[str, str], ...]


class MetricBatch:
    """Metrics of one namespace and service, added up until the next flush."""

    def __init__(self, *, namespace: str, service: str,
                 write: Callable[[str], Any] | None = None) -> None:
        self.namespace, self.service = namespace, service
        self._write = write or sys.stdout.write
        self._counts: dict[Dimensions, dict[str, float]] = defaultdict(dict)
        self._timings: dict[Dimensions, dict[str, list[float]]] = defaultdict(dict)

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        """Add *value* to counter *name* under *dimensions*."""
        counts = self._counts[tuple(sorted(dimensions.items()))]
        counts[name] = counts.get(name, 0) + value

    def time(self, name: str, milliseconds: float, **dimensions: str) -> None:
        """Record one timing of *name* under *dimensions*."""
        self._timings[tuple(sorted(dimensions.items()))].setdefault(name, []).append(
            round(milliseconds, 3))

    def lines(self) -> list[str]:
        """Return what gathered since the last call as EMF lines, and start afresh."""
        counts, timings = self._counts, self._timings
        self._counts, self._timings = defaultdict(dict), defaultdict(dict)
        out = []
        for dims, metrics in counts.items():
            out.append(self._line(metrics, dict(dims), "Count"))
        for dims, series in timings.items():
            for name, values in series.items():
                for start in range(0, len(values), MAX_VALUES_PER_LINE):
                    chunk = values[start:start + MAX_VALUES_PER_LINE]
                    out.append(self._line({name: chunk}, dict(dims), "Milliseconds"))
        return out

    def _line(self, metrics: dict[str, Any], dims: dict[str, str], unit: str) -> str:
        # emf() takes numbers; a value array has the same place in the line.
        fields = emf(dict.fromkeys(metrics, 0.0), namespace=self.namespace,
                     service=self.service, unit=unit, dimensions=dims)
        return orjson.dumps({**fields, **metrics}).decode() + "\n"

    def flush(self) -> None:
        """Write what gathered, in one write so concurrent writers do not mix lines."""
        text = "".join(self.lines())
        if text:
            self._write(text)
            sys.stdout.flush()


def flusher(batch: MetricBatch) -> Callable[[Any], AsyncIterator[None]]:
    """Return a cleanup context that flushes *batch* every second and once at exit."""

    async def ctx(_: Any) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(FLUSH_INTERVAL_S)
                batch.flush()

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        batch.flush()

    return ctx


def elapsed_ms(started: float) -> float:
    """Return the milliseconds since *started* (a `time.perf_counter()` reading)."""
    return (time.perf_counter() - started) * 1000
