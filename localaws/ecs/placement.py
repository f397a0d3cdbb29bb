"""Where ECS puts and removes a service's tasks: spread evenly over the available AZs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Placed:
    """A task as placement sees it: its AZ, whether it serves yet, and when it started."""

    name: str
    az: str
    running: bool
    started: float


def counts(tasks: Sequence[Placed], azs: Sequence[str]) -> dict[str, int]:
    """Return how many of *tasks* each AZ holds."""
    out = dict.fromkeys(azs, 0)
    for task in tasks:
        out[task.az] = out.get(task.az, 0) + 1
    return out


def az_for_new_task(tasks: Sequence[Placed], available: Sequence[str]) -> str | None:
    """Return the available AZ with the fewest tasks (the first on a tie), or None."""
    if not available:
        return None
    held = counts(tasks, available)
    return min(available, key=lambda az: held[az])


def task_to_stop(tasks: Sequence[Placed], available: Sequence[str]) -> Placed | None:
    """Return the task a scale-in stops: one in an unavailable AZ first, else in the AZ with
    the most tasks; within it a task not serving yet, else the newest."""
    if not tasks:
        return None
    held = counts(tasks, [t.az for t in tasks])
    return max(tasks, key=lambda t: (t.az not in available, held[t.az], not t.running,
                                     t.started))


def az_to_rebalance(tasks: Sequence[Placed], available: Sequence[str]) -> str | None:
    """Return an AZ that should get one more task so no AZ has two more than another."""
    if len(available) < 2 or any(not t.running for t in tasks):
        return None
    held = counts([t for t in tasks if t.az in available], available)
    low = min(available, key=lambda az: held[az])
    return low if max(held.values()) - held[low] > 1 else None
