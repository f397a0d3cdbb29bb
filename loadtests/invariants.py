"""After a run: let in-flight work settle, then check DESIGN.md's invariants and count losses."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from operations.check import Violation
from operations.local_stack import check_stack, local_stack

# Which invariants (numbered as in DESIGN.md) each kind of damage breaks.
OVERSOLD = frozenset({1, 2})  # more seats held or sold than exist, or sold without a booking
LOST = frozenset({3, 5, 6})  # a checkout never ending, a confirmation never sent, seats kept
DOUBLED = frozenset({4})  # a payment captured twice, or kept for a booking that is not sold


@dataclass(frozen=True, kw_only=True)
class InvariantResult:
    """The check's verdict after the run, with the damage counted by kind."""

    ran: bool
    violations: list[Violation]
    attempts: int = 0
    seconds: float = 0.0
    reason: str = ""
    error: str = ""

    @property
    def holds(self) -> bool | None:
        """Return whether every invariant holds; None when not checked, False when it broke."""
        if self.error:
            return False  # a check that could not look proves nothing was lost
        return not self.violations if self.ran else None

    def count(self, kind: frozenset[int]) -> int:
        """Return how many violations are of *kind* (OVERSOLD, LOST or DOUBLED)."""
        return sum(1 for v in self.violations if v.invariant in kind)

    def as_dict(self) -> dict[str, Any]:
        """Return the result for the JSON summary."""
        return {"ran": self.ran, "holds": self.holds, "reason": self.reason, "error": self.error,
                "oversold": self.count(OVERSOLD), "lost": self.count(LOST),
                "doubled": self.count(DOUBLED), "attempts": self.attempts,
                "seconds": round(self.seconds, 1),
                "violations": [{"invariant": v.invariant, "detail": v.detail}
                               for v in self.violations]}


def not_run(reason: str) -> InvariantResult:
    """Return the result of a check that could not run (e.g. the stack is on AWS)."""
    return InvariantResult(ran=False, violations=[], reason=reason)


def settle_and_check(state_dir: Path, *, grace_s: float, settle_s: float) -> InvariantResult:
    """Check until every invariant holds or *settle_s* has passed; return the last verdict.

    Work younger than *grace_s* is not judged, so the first look waits that long; a booking
    still pending when *settle_s* is up counts as lost.
    """
    record = local_stack(state_dir)
    started = time.monotonic()
    deadline = started + settle_s
    time.sleep(grace_s)
    attempts = 0
    while True:
        attempts += 1
        try:
            violations = asyncio.run(check_stack(record, grace=timedelta(seconds=grace_s)))
        except Exception as exc:  # the stack or its emulator went away during the run
            return InvariantResult(ran=True, violations=[], attempts=attempts,
                                   seconds=time.monotonic() - started,
                                   error=f"the check could not run: {exc!r}")
        if not violations or time.monotonic() >= deadline:
            return InvariantResult(ran=True, violations=violations, attempts=attempts,
                                   seconds=time.monotonic() - started)
        time.sleep(2.0)
