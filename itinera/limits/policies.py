"""The abuse limits as data: what each protects, its default, and how a stage overrides it.

Two kinds: a *rate* (a budget of `count` that refills evenly over `window`, the generic cell
rate algorithm in Redis) and a *cap* (a ceiling on what a traveller holds at once, counted in
the holdings ledger). `LIMITS` (one environment variable, set per stage by the template)
overrides any of them: `holds=30/1h,flight-seats=12,card-attempts=off`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from itinera.errors import LimitExceeded
from itinera.settings import SettingsError

LIMITS_ENV = "LIMITS"
_WINDOW_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"([1-9][0-9]{0,8})/([1-9][0-9]{0,5})?([smhd])")
_CAP = re.compile(r"[1-9][0-9]{0,5}")


@dataclass(frozen=True, kw_only=True)
class Rate:
    """Up to `count` requests at once, refilled evenly over `window_s` seconds."""

    name: str
    code: str
    count: int
    window_s: float
    protects: str
    # What the traveller reads: {count}, {window} and {retry} are filled in.
    message: str
    enabled: bool = True
    # Busy clients take a few requests of this budget per call to Redis (gcra.py's leases):
    # right for a budget of many requests a second, wasteful for a few an hour.
    leased: bool = False

    @property
    def per_second(self) -> float:
        """Return the sustained rate the budget refills at."""
        return self.count / self.window_s

    def spec(self) -> str:
        """Return the policy as `LIMITS` writes it."""
        if not self.enabled:
            return "off"
        unit = next(u for u, s in reversed(_WINDOW_UNITS.items())
                    if self.window_s % s == 0)
        return f"{self.count}/{int(self.window_s // _WINDOW_UNITS[unit])}{unit}"


@dataclass(frozen=True, kw_only=True)
class Cap:
    """At most `limit` of something held at once."""

    name: str
    code: str
    limit: int
    protects: str
    # What the traveller reads: {limit} and {retry} are filled in.
    message: str
    enabled: bool = True

    def spec(self) -> str:
        """Return the policy as `LIMITS` writes it."""
        return str(self.limit) if self.enabled else "off"


Policy = Rate | Cap

# The production defaults. A family of nine on two cabins of one flight, a return flight and
# a hotel (9 + 9 seats and 6 rooms) fits every cap; a card tester or a seat spinner does not.
DEFAULTS: tuple[Policy, ...] = (
    Rate(name="search", code="rate_limited", count=40, window_s=2, leased=True,
         protects="inventory's search capacity from one traveller or address",
         message="too many searches; retry in {retry}s"),
    Rate(name="search-address", code="rate_limited", count=400, window_s=2, leased=True,
         protects="search from one person signing in with many accounts behind one address",
         message="too many searches from your network; retry in {retry}s"),
    Rate(name="holds", code="too_many_holds", count=20, window_s=3600,
         protects="the hold path from a traveller holding and releasing in a loop",
         message="you made {count} holds in {window}; retry in {retry}s"),
    Rate(name="item-holds", code="hold_renewals_exhausted", count=4, window_s=6 * 3600,
         protects="a flight or hotel from one traveller re-holding it as each hold expires",
         message="you held this flight or hotel {count} times in {window}; retry in {retry}s"),
    Cap(name="active-holds", code="too_many_active_holds", limit=5,
        protects="inventory from one traveller keeping many holds open",
        message="you have {limit} holds open; book or release one, or retry in {retry}s"),
    Cap(name="held-units", code="too_many_units_held", limit=24,
        protects="inventory from one traveller holding many seats and rooms at once",
        message="you may hold {limit} seats and rooms at once; book or release some first, "
                "or retry in {retry}s"),
    Cap(name="flight-seats", code="too_many_seats_on_flight", limit=9,
        protects="a flight from one traveller holding its seats (seat spinning)",
        message="you may hold {limit} seats on one flight; book or release your hold on it "
                "first, or retry in {retry}s"),
    Cap(name="hotel-rooms", code="too_many_rooms_on_night", limit=6,
        protects="a hotel night from one traveller holding its rooms",
        message="you may hold {limit} rooms in one hotel on one night; book or release your "
                "hold there first, or retry in {retry}s"),
    Rate(name="booking-attempts", code="too_many_booking_attempts", count=10, window_s=3600,
         protects="payments from one traveller trying many cards (card testing)",
         message="you started {count} bookings in {window}; retry in {retry}s"),
    Rate(name="card-attempts", code="too_many_card_attempts", count=10, window_s=3600,
         protects="payments from one card tried from many accounts",
         message="this card was used for {count} bookings in {window}; retry in {retry}s"),
    Rate(name="declines", code="too_many_declines", count=5, window_s=86400,
         protects="payments from a traveller whose cards keep being declined",
         message="your cards were declined {count} times in {window}; retry in {retry}s"),
    Rate(name="card-declines", code="card_declined_too_often", count=3, window_s=86400,
         protects="a card that keeps being declined (a stolen or tested card)",
         message="this card was declined {count} times in {window}; use another card or "
                 "retry in {retry}s"),
)


def refusal(policy: Policy, *, retry_after: int) -> LimitExceeded:
    """Return the 429 problem *policy* answers with."""
    retry = max(1, retry_after)
    if isinstance(policy, Rate):
        detail = policy.message.format(count=policy.count, window=_window(policy.window_s),
                                       retry=retry)
    else:
        detail = policy.message.format(limit=policy.limit, retry=retry)
    return LimitExceeded.of(policy.code, policy.name, detail, retry_after=retry)


def _window(seconds: float) -> str:
    for unit, size, word in ((86400, 86400, "day"), (3600, 3600, "hour"), (60, 60, "minute")):
        if seconds >= size and seconds % unit == 0:
            n = int(seconds // size)
            return f"{n} {word}s" if n > 1 else f"1 {word}"
    return f"{seconds:g} seconds"


@dataclass(frozen=True)
class Limits:
    """Every policy of a stage, by name."""

    policies: Mapping[str, Policy]

    def rate(self, name: str) -> Rate:
        """Return the rate policy *name*."""
        policy = self.policies[name]
        assert isinstance(policy, Rate), name
        return policy

    def cap(self, name: str) -> Cap:
        """Return the cap policy *name*."""
        policy = self.policies[name]
        assert isinstance(policy, Cap), name
        return policy

    def spec(self) -> str:
        """Return every policy as one `LIMITS` value."""
        return ",".join(f"{p.name}={p.spec()}" for p in self.policies.values())


def parse_limits(spec: str, *, base: tuple[Policy, ...] = DEFAULTS) -> Limits:
    """Return *base* with the overrides of *spec* (`name=N/window`, `name=N` or `name=off`)."""
    policies = {p.name: p for p in base}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if name not in policies:
            raise SettingsError(f"{LIMITS_ENV}: unknown limit {name!r}; "
                                f"known: {', '.join(policies)}")
        policies[name] = _override(policies[name], value)
    return Limits(policies)


def _override(policy: Policy, value: str) -> Policy:
    if value == "off":
        return replace(policy, enabled=False)
    if isinstance(policy, Rate):
        match = _RATE.fullmatch(value)
        if not match:
            raise SettingsError(f"{LIMITS_ENV}: {policy.name}={value!r}; a rate is written "
                                "COUNT/WINDOW such as 20/1h, 40/2s or 3/1d, or off")
        count, amount, unit = match.groups()
        return replace(policy, count=int(count), enabled=True,
                       window_s=int(amount or 1) * _WINDOW_UNITS[unit])
    if not _CAP.fullmatch(value):
        raise SettingsError(f"{LIMITS_ENV}: {policy.name}={value!r}; a cap is a whole number "
                            "from 1, or off")
    return replace(policy, limit=int(value), enabled=True)
