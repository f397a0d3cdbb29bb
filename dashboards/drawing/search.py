"""SEARCH expressions of dashboard widgets, answered from ListMetrics as CloudWatch does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

_SEARCH = re.compile(r"""^\s*SEARCH\(\s*'(?P<query>(?:[^'\\]|\\.)*)'\s*,\s*'(?P<stat>[^']+)'"""
                     r"""\s*(?:,\s*(?P<period>\d+)\s*)?\)\s*$""")
_SCHEMA = re.compile(r"\{([^}]*)\}")
_TERM = re.compile(r'(?P<key>[A-Za-z][A-Za-z0-9_]*)\s*=\s*"(?P<value>[^"]*)"')

Dimensions = tuple[tuple[str, str], ...]


class MetricCatalog(Protocol):
    """What ListMetrics answers: the dimension sets a metric has data under."""

    def list_metrics(self, namespace: str, metric: str) -> list[Dimensions]:
        """Return every dimension set of *metric* in *namespace*."""


@dataclass(frozen=True)
class Search:
    """One parsed `SEARCH('{Namespace,Dim,...} MetricName="X" Dim="v"', 'Stat', Period)`."""

    namespace: str
    dimension_names: frozenset[str]
    metric: str
    filters: tuple[tuple[str, str], ...]
    stat: str
    period: int | None

    def matches(self, dimensions: Dimensions) -> bool:
        """Return whether a metric with *dimensions* is one this search finds."""
        names = {name for name, _ in dimensions}
        values = dict(dimensions)
        return names == self.dimension_names and all(values.get(k) == v
                                                     for k, v in self.filters)


def parse(expression: str) -> Search | None:
    """Return the SEARCH in *expression*, or None when it is another kind of expression.

    Only the schema form with exact `Key="value"` terms and a MetricName is understood: it is
    what the dashboards use, and anything else is an error rather than a silent empty graph.
    """
    match = _SEARCH.match(expression)
    if match is None:
        if "SEARCH(" in expression:
            raise ValueError(f"unsupported SEARCH expression: {expression}")
        return None
    query = match.group("query").replace('\\"', '"')
    schema = _SCHEMA.search(query)
    if schema is None:
        raise ValueError(f"SEARCH without a {{Namespace,Dimensions}} schema: {expression}")
    namespace, *dims = [part.strip() for part in schema.group(1).split(",")]
    terms = dict((m.group("key"), m.group("value"))
                 for m in _TERM.finditer(query[schema.end():]))
    if "MetricName" not in terms:
        raise ValueError(f"SEARCH without MetricName=\"...\": {expression}")
    metric = terms.pop("MetricName")
    period = match.group("period")
    return Search(namespace=namespace, dimension_names=frozenset(dims), metric=metric,
                  filters=tuple(sorted(terms.items())), stat=match.group("stat"),
                  period=int(period) if period else None)


def find(search: Search, catalog: MetricCatalog) -> list[Dimensions]:
    """Return the dimension sets of the metrics *search* finds, in a stable order."""
    found = {tuple(sorted(d)) for d in catalog.list_metrics(search.namespace, search.metric)
             if search.matches(d)}
    return sorted(found)


def distinct_labels(found: list[Dimensions], search: Search) -> list[str]:
    """Return a label per result: its values that differ between results (`az-a`, `az-b`)."""
    varying = {name for name in search.dimension_names
               if len({dict(dims).get(name) for dims in found}) > 1}
    return [" ".join(v for k, v in dims if k in varying) or search.metric for dims in found]


class CloudWatchCatalog:
    """ListMetrics through a boto3 CloudWatch client (AWS or moto)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def list_metrics(self, namespace: str, metric: str) -> list[Dimensions]:
        """Return every dimension set of *metric* in *namespace*."""
        out: list[Dimensions] = []
        pages = self.client.get_paginator("list_metrics").paginate(Namespace=namespace,
                                                                    MetricName=metric)
        for page in pages:
            for item in page["Metrics"]:
                out.append(tuple((d["Name"], d["Value"]) for d in item.get("Dimensions", [])))
        return out
