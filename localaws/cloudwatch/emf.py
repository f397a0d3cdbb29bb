"""Extract metrics from one log line the way CloudWatch Logs reads embedded metric format."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

# CloudWatch Logs' limits: 30 dimensions per set, 100 values per metric, 100 metrics.
MAX_DIMENSIONS = 30
MAX_VALUES = 100
NO_UNIT = "None"

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Datum:
    """One metric's samples at one time, under one exact dimension set."""

    namespace: str
    name: str
    dimensions: Dimensions
    timestamp: float
    values: tuple[float, ...]
    unit: str = NO_UNIT


def dimensions_of(pairs: dict[str, str] | list[dict[str, str]]) -> Dimensions:
    """Return a dimension set in its one canonical form: (name, value) pairs sorted by name."""
    if isinstance(pairs, list):
        return tuple(sorted((d["Name"], d["Value"]) for d in pairs))
    return tuple(sorted(pairs.items()))


def parse_line(line: str | bytes) -> list[Datum]:
    """Return the datapoints in one log line; nothing for a line that is not EMF."""
    text = line.strip()
    if not text or text[:1] not in ("{", b"{"):
        return []
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    return parse_document(document) if isinstance(document, dict) else []


def parse_document(document: dict[str, Any]) -> list[Datum]:
    """Return the datapoints one EMF document declares; an invalid directive declares none."""
    meta = document.get("_aws")
    if not isinstance(meta, dict) or not isinstance(meta.get("CloudWatchMetrics"), list):
        return []
    timestamp = meta.get("Timestamp")
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return []
    out: list[Datum] = []
    for directive in meta["CloudWatchMetrics"]:
        out += _directive(document, directive, timestamp / 1000)
    return out


def _directive(document: dict[str, Any], directive: Any, at: float) -> list[Datum]:
    if not isinstance(directive, dict) or not isinstance(directive.get("Namespace"), str):
        return []
    sets = directive.get("Dimensions", [])
    # An empty list of sets publishes the metrics without dimensions, as [[]] does.
    sets = sets or [[]]
    dimension_sets = [_dimension_set(document, names) for names in sets]
    out = []
    for metric in directive.get("Metrics") or []:
        if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
            continue
        values = _values(document.get(metric["Name"]))
        if not values:
            continue
        unit = metric.get("Unit") if isinstance(metric.get("Unit"), str) else NO_UNIT
        out += [Datum(namespace=directive["Namespace"], name=metric["Name"], dimensions=dims,
                      timestamp=at, values=values, unit=unit or NO_UNIT)
                for dims in dimension_sets if dims is not None]
    return out


def _dimension_set(document: dict[str, Any], names: Any) -> Dimensions | None:
    """Return one set's dimensions, or None when a name has no string value at the root."""
    if not isinstance(names, list) or len(names) > MAX_DIMENSIONS:
        return None
    pairs = {}
    for name in names:
        value = document.get(name) if isinstance(name, str) else None
        if not isinstance(value, str) or not value:
            return None
        pairs[name] = value
    return dimensions_of(pairs)


def _values(raw: Any) -> tuple[float, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if len(items) > MAX_VALUES:
        return ()
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float):
            return ()
        if not math.isfinite(item):
            return ()
        out.append(float(item))
    return tuple(out)
