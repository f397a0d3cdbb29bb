"""CloudWatch's statistics over one period's raw values, percentiles included."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

BASIC = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
# p99, p99.9, tm90 (mean of the values up to the 90th percentile), tm10:90 is not supported.
_PERCENTILE = re.compile(r"^(p|tm)(\d{1,2}(?:\.\d+)?|100)$")


def is_percentile(stat: str) -> bool:
    """Return whether *stat* needs raw values (pNN, tmNN) rather than moto's aggregates."""
    return _PERCENTILE.match(stat) is not None


def statistic(stat: str, values: Sequence[float]) -> float | None:
    """Return *stat* over *values*, None when there are none (CloudWatch returns no point)."""
    if not values:
        return None
    if stat == "Sum":
        return math.fsum(values)
    if stat == "Average":
        return math.fsum(values) / len(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Maximum":
        return max(values)
    if stat == "SampleCount":
        return float(len(values))
    match = _PERCENTILE.match(stat)
    if match is None:
        raise ValueError(f"unsupported statistic {stat!r}")
    kind, level = match.group(1), float(match.group(2))
    ordered = sorted(values)
    rank = _rank(level, len(ordered))
    if kind == "p":
        return ordered[rank - 1]
    # Trimmed mean: the values at or below the percentile, as CloudWatch's TM(0%:NN%).
    kept = ordered[:rank]
    return math.fsum(kept) / len(kept)


def _rank(level: float, count: int) -> int:
    """Return the nearest rank (1-based) of percentile *level* among *count* sorted values.

    The smallest value with at least *level* % of the values at or below it: p99 of 1000
    values is the 990th, p50 of 2 values the first, p100 the largest.
    """
    # Rounded first so p99.9 of 1000 values is the 999th, not the 1000th by float error.
    return min(count, max(1, math.ceil(round(level / 100 * count, 9))))
