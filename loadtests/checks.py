"""One judged threshold: what was expected, what was observed, and whether it passed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Check:
    """One threshold, what was observed, and whether the run passed it."""

    name: str
    op: str  # "<=" or ">="
    limit: float
    observed: float | None
    unit: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the check for the JSON summary."""
        return {"name": self.name, "expected": f"{self.op} {self.limit:g}{self.unit}",
                "limit": self.limit, "op": self.op, "observed": self.observed,
                "unit": self.unit.strip(), "passed": self.passed}


def check(name: str, op: str, limit: float, observed: float | None, unit: str = "") -> Check:
    """Return the check of *observed* against *limit* (*op* is "<=" or ">=")."""
    if observed is None:  # a threshold nothing was measured for cannot pass
        return Check(name=name, op=op, limit=limit, observed=None, unit=unit, passed=False)
    passed = observed <= limit if op == "<=" else observed >= limit
    return Check(name=name, op=op, limit=limit, observed=observed, unit=unit, passed=passed)
