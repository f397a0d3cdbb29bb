"""The raw store answers CloudWatch statistics, percentiles included, from recorded values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from localaws.cloudwatch.emf import Datum
from localaws.cloudwatch.stats import is_percentile, statistic
from localaws.cloudwatch.store import MetricStore

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
DIMS = (("LoadBalancer", "app/lb/1"), ("TargetGroup", "targetgroup/tg/2"))


def _datum(values: list[float], at: datetime, dims: tuple[tuple[str, str], ...] = DIMS,
           name: str = "TargetResponseTime") -> Datum:
    return Datum(namespace="AWS/ApplicationELB", name=name, dimensions=dims,
                 timestamp=at.timestamp(), values=tuple(values), unit="Seconds")


@pytest.fixture
def store(tmp_path: Path) -> MetricStore:
    """A fresh store in a temporary folder."""
    return MetricStore(tmp_path / "run" / "metrics.sqlite")


def test_percentiles_are_nearest_rank() -> None:
    """p50/p99/p100 of 1..100 are 50, 99, 100; p99.9 of 1..1000 is 999."""
    hundred = [float(v) for v in range(100, 0, -1)]
    assert statistic("p50", hundred) == 50
    assert statistic("p99", hundred) == 99
    assert statistic("p100", hundred) == 100
    assert statistic("p99.9", [float(v) for v in range(1, 1001)]) == 999
    assert statistic("p99", [7.0]) == 7


def test_basic_statistics_and_trimmed_mean() -> None:
    """Sum, Average, Minimum, Maximum, SampleCount and tm90 over hand-made values."""
    values = [float(v) for v in range(1, 11)]
    assert [statistic(s, values) for s in ("Sum", "Average", "Minimum", "Maximum",
                                           "SampleCount")] == [55, 5.5, 1, 10, 10]
    assert statistic("tm90", values) == 5.0
    assert statistic("Sum", []) is None
    assert is_percentile("p99.9") and is_percentile("tm99") and not is_percentile("Average")
    with pytest.raises(ValueError, match="unsupported"):
        statistic("IQM", values)


def test_query_groups_values_per_period_from_start(store: MetricStore) -> None:
    """Each period's statistic comes from the values inside it; empty periods are absent."""
    store.put([_datum([0.1, 0.2, 0.9], T0 + timedelta(seconds=1)),
               _datum([0.5], T0 + timedelta(seconds=5.9)),
               _datum([2.0, 4.0], T0 + timedelta(seconds=13))])
    points = store.query("AWS/ApplicationELB", "TargetResponseTime", DIMS, period=6,
                         stat="p99", start=T0, end=T0 + timedelta(seconds=18))
    assert points == [(T0, 0.9), (T0 + timedelta(seconds=12), 4.0)]
    counts = store.query("AWS/ApplicationELB", "TargetResponseTime", DIMS, period=6,
                         stat="SampleCount", start=T0, end=T0 + timedelta(seconds=18))
    assert [v for _, v in counts] == [4, 2]


def test_query_matches_the_exact_dimension_set(store: MetricStore) -> None:
    """A metric with more or other dimensions is a different metric."""
    with_az = (*DIMS, ("AvailabilityZone", "az-a"))
    store.put([_datum([1.0], T0, DIMS), _datum([9.0], T0, with_az)])
    points = store.query("AWS/ApplicationELB", "TargetResponseTime", DIMS, period=60,
                         stat="Maximum", start=T0, end=T0 + timedelta(seconds=60))
    assert points == [(T0, 1.0)]


def test_end_is_exclusive_and_unit_filters(store: MetricStore) -> None:
    """A value at `end` is outside; a unit filter keeps only values stored with that unit."""
    store.put([_datum([1.0], T0), _datum([3.0], T0 + timedelta(seconds=60))])
    assert store.query("AWS/ApplicationELB", "TargetResponseTime", DIMS, period=60,
                       stat="Sum", start=T0, end=T0 + timedelta(seconds=60)) == [(T0, 1.0)]
    assert store.query("AWS/ApplicationELB", "TargetResponseTime", DIMS, period=60,
                       stat="Sum", start=T0, end=T0 + timedelta(seconds=60),
                       unit="Milliseconds") == []


def test_a_second_connection_reads_what_the_first_wrote(store: MetricStore) -> None:
    """Readers in other processes open the same file and see committed values."""
    store.put([_datum([0.25], T0)])
    reader = MetricStore(store.path)
    assert reader.values("AWS/ApplicationELB", "TargetResponseTime", DIMS, T0,
                         T0 + timedelta(seconds=1)) == [(T0.timestamp(), 0.25)]
    reader.close()


def test_prune_drops_only_samples_older_than_the_cutoff(store: MetricStore) -> None:
    """Retention: old samples go, newer ones still answer queries."""
    store.put([_datum([1.0, 2.0], T0), _datum([3.0], T0 + timedelta(minutes=5))])
    assert store.prune((T0 + timedelta(minutes=1)).timestamp()) == 2
    left = store.values("AWS/ApplicationELB", "TargetResponseTime", DIMS, T0,
                        T0 + timedelta(hours=1))
    assert [value for _, value in left] == [3.0]
