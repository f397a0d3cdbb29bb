"""When a schedule fires: EventBridge Scheduler's `rate()`, `cron()` and `at()` expressions.

`cron(minutes hours day-of-month month day-of-week year)` is read with croniter after the two
differences from Unix cron are taken out: the year field (kept only as a filter) and `?`
(any). Numeric days of the week count from 1 (Sunday) in AWS, from 0 in Unix cron; names
(MON-FRI) read the same. `L`, `W` and `#` are refused: no schedule of ours uses them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400,
         "days": 86400}
_RATE = re.compile(r"^rate\((\d+) (minutes?|hours?|days?)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


class ExpressionError(ValueError):
    """A schedule expression this reader cannot follow."""


def rate_seconds(expression: str) -> float | None:
    """Return a `rate()` expression's period in seconds, None for any other kind."""
    match = _RATE.match(expression.strip())
    if match is None:
        return None
    amount = int(match.group(1))
    if amount < 1:
        raise ExpressionError(f"{expression}: the rate must be at least 1")
    return float(amount * UNITS[match.group(2)])


def _unix_cron(fields: list[str]) -> tuple[str, str]:
    if len(fields) != 6:
        raise ExpressionError("cron() takes six fields: minutes hours day-of-month month "
                              "day-of-week year")
    minutes, hours, dom, month, dow, year = fields
    if any(mark in "".join(fields) for mark in ("L", "W", "#")):
        raise ExpressionError("L, W and # are not followed locally")
    dow = re.sub(r"\d+", lambda m: str(int(m.group(0)) - 1), dow)
    return " ".join(f.replace("?", "*") for f in (minutes, hours, dom, month, dow)), year


def next_fire(expression: str, after: datetime, *, timezone: str = "UTC") -> datetime | None:
    """Return the first time after *after* that *expression* fires (None: never again)."""
    text = expression.strip()
    period = rate_seconds(text)
    if period is not None:
        return after + timedelta(seconds=period)
    at = _AT.match(text)
    if at is not None:
        when = datetime.fromisoformat(at.group(1)).replace(tzinfo=ZoneInfo(timezone))
        return when.astimezone(UTC) if when > after else None
    cron = _CRON.match(text)
    if cron is None:
        raise ExpressionError(f"{expression}: not a rate(), cron() or at() expression")
    unix, year = _unix_cron(cron.group(1).split())
    moment = croniter(unix, after.astimezone(ZoneInfo(timezone)))
    for _ in range(1000):  # the year field filters; a thousand firings cover any of ours
        found: datetime = moment.get_next(datetime)
        if year in ("*", "?") or str(found.year) in year.split(","):
            return found.astimezone(UTC)
    return None
