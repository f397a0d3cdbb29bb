"""Which simulated AZs are available: a file the game days and `itinera az` write."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from localaws.config import AZS


def az_state_path(state_dir: Path) -> Path:
    """Return the file that marks AZs unavailable."""
    return state_dir / "run" / "az-state.json"


def read_az_state(state_dir: Path) -> dict[str, dict[str, Any]]:
    """Return each AZ's state: `available` and, when marked, since when and why."""
    try:
        marked = json.loads(az_state_path(state_dir).read_text())
    except (OSError, ValueError):
        marked = {}
    return {az: {"available": True, **marked.get(az, {})} for az in AZS}


def set_az_available(state_dir: Path, az: str, available: bool, *, reason: str = "",
                     stop_tasks: bool = True) -> dict[str, dict[str, Any]]:
    """Mark *az* available or not; while not, the scheduler places no task there.

    With *stop_tasks* (the default, an AZ power loss), the scheduler also stops the tasks it
    finds running there.
    """
    if az not in AZS:
        raise ValueError(f"unknown AZ {az!r}; the local AZs are {', '.join(AZS)}")
    state = read_az_state(state_dir)
    state[az] = {"available": available, "since": time.time(), "reason": reason,
                 "stop_tasks": stop_tasks and not available}
    path = az_state_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole and renamed, so the scheduler never reads half a file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)
    return state


class AzWatcher:
    """Read the AZ file again only when it changed."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self._stamp: float | None = None
        self._state = read_az_state(state_dir)

    def state(self) -> dict[str, dict[str, Any]]:
        """Return each AZ's current state."""
        try:
            stamp: float | None = az_state_path(self.state_dir).stat().st_mtime_ns
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._stamp, self._state = stamp, read_az_state(self.state_dir)
        return self._state

    def available(self) -> list[str]:
        """Return the AZs tasks may be placed in, in order."""
        return [az for az, s in self.state().items() if s["available"]]
