"""The load scenarios: which travellers take part, and how the load is shaped by default."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One named load run: its travellers (locust user classes) and default shape."""

    name: str
    travellers: tuple[str, ...]
    shape: str
    users: int
    duration_s: int
    description: str
    flash_sale: bool = False
    # The duration is in AWS seconds, run at the target's time scale (its CloudWatch periods,
    # alarms and cooldowns): a scaling run must last as many periods locally as on AWS.
    clock_scaled: bool = False


# The booking mix: mostly browsing, as on every travel site; a fraction books, some with
# a hotel in the same hold, some with a card that is declined or fails once.
BOOKING_MIX = ("Browser", "Booker", "TripBooker", "CardTrouble")

SCENARIOS = {s.name: s for s in (
    Scenario(name="browse", travellers=("Browser",), shape="ramp", users=50, duration_s=60,
             description="searches and details only"),
    Scenario(name="booking", travellers=BOOKING_MIX, shape="ramp", users=50, duration_s=60,
             description="the realistic mix: browse, hold, book, poll, cancel"),
    Scenario(name="flash-sale", travellers=("FlashBuyer", "Browser"), shape="steady",
             users=60, duration_s=60, flash_sale=True,
             description="many travellers race for one small cabin; sold_out is expected"),
    Scenario(name="checkout", travellers=("Checkout",), shape="steady", users=100,
             duration_s=60, description="the checkout path alone, offered at a constant rate "
                                        "(--rate): what make bench measures"),
    # 40 AWS minutes (4 locally at the default time scale): 6 up, 10 held, 24 of trickle, as
    # scale-in needs 15 minutes below target, then its cooldown.
    Scenario(name="scale", travellers=("Browser",), shape="scale", users=200, duration_s=2400,
             clock_scaled=True,
             description="traffic ramped past the services' scaling targets, held, then a "
                         "trickle: they scale out and back in (duration in AWS seconds)"),
    Scenario(name="soak", travellers=BOOKING_MIX, shape="soak", users=30, duration_s=1800,
             description="the booking mix held for a long, bounded time"),
)}


def scenario(name: str) -> Scenario:
    """Return the scenario called *name*, or raise ValueError naming the known ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}") from None
