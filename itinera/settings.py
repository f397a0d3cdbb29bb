"""Reading typed values from the environment; each service's Settings builds on these."""

from __future__ import annotations

import os
from collections.abc import Mapping


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed."""


def env_str(name: str, default: str | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """Return the variable *name*, or *default*; raise if neither exists."""
    source = os.environ if env is None else env
    value = source.get(name)
    if value is None or value == "":
        if default is None:
            raise SettingsError(f"environment variable {name} is required")
        return default
    return value


def env_int(name: str, default: int | None = None, *, env: Mapping[str, str] | None = None) -> int:
    """Return the variable *name* as an int."""
    raw = env_str(name, None if default is None else str(default), env=env)
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def env_float(
    name: str, default: float | None = None, *, env: Mapping[str, str] | None = None
) -> float:
    """Return the variable *name* as a float."""
    raw = env_str(name, None if default is None else str(default), env=env)
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"environment variable {name} must be a number, got {raw!r}") from exc
