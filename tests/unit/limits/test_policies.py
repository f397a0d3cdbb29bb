"""The abuse limits as data: defaults that fit a family, overrides per stage, clear refusals."""

from __future__ import annotations

from datetime import date

import pytest

from itinera.limits.holdings import held_items
from itinera.limits.policies import DEFAULTS, Cap, Rate, parse_limits, refusal
from itinera.settings import SettingsError


def test_a_stage_overrides_rates_and_caps_and_turns_policies_off() -> None:
    """`LIMITS` sets a rate as COUNT/WINDOW, a cap as a number, and `off` disables either."""
    limits = parse_limits("holds=30/1h, flight-seats=12,card-attempts=off,search=100/1s")
    assert (limits.rate("holds").count, limits.rate("holds").window_s) == (30, 3600)
    assert limits.cap("flight-seats").limit == 12
    assert not limits.rate("card-attempts").enabled
    assert limits.rate("search").per_second == 100
    assert limits.rate("declines") == next(p for p in DEFAULTS if p.name == "declines")


def test_spec_round_trips() -> None:
    """What `spec()` writes, `parse_limits` reads back to the same policies."""
    limits = parse_limits("holds=7/90m,hotel-rooms=off,declines=2/1d")
    assert parse_limits(limits.spec()) == limits


@pytest.mark.parametrize("spec", ["nope=1/1h", "holds=12", "holds=0/1h", "holds=1/1w",
                                  "flight-seats=1/1h", "flight-seats=0", "holds=-1/1h"])
def test_a_malformed_override_stops_the_service_with_a_reason(spec: str) -> None:
    """An unknown name, a cap written as a rate (or the reverse), zero or a bad unit is refused."""
    with pytest.raises(SettingsError, match="LIMITS"):
        parse_limits(spec)


def test_the_default_caps_fit_a_family_of_nine_flying_out_and_back_with_a_hotel() -> None:
    """Nine seats over two cabins out, nine back and six rooms for three nights fit every cap."""
    limits = parse_limits("")
    out, back = 101, 202
    family = held_items([(out, 5), (out, 4), (back, 9)],
                        [(7, date(2030, 1, 2), date(2030, 1, 5), 6)])
    assert family.seats == {out: 9, back: 9}
    assert max(family.seats.values()) <= limits.cap("flight-seats").limit
    assert max(family.rooms.values()) <= limits.cap("hotel-rooms").limit
    assert family.units == 24 <= limits.cap("held-units").limit


def test_rooms_count_once_per_hotel_however_many_nights() -> None:
    """Two rooms for three nights are two units, and two rooms on each of the three nights."""
    stay = held_items([], [(7, date(2030, 1, 2), date(2030, 1, 5), 2)])
    assert stay.units == 2
    assert stay.rooms == {(7, date(2030, 1, 2)): 2, (7, date(2030, 1, 3)): 2,
                          (7, date(2030, 1, 4)): 2}
    assert stay.arguments()[:2] == ["n7:2030-01-02", "2"]


def test_a_refusal_names_its_policy_code_and_when_to_retry() -> None:
    """Each policy answers 429 with its own code, its name and Retry-After of at least 1 s."""
    for policy in DEFAULTS:
        err = refusal(policy, retry_after=0)
        problem = err.problem()
        assert (err.status, problem["code"], problem["limit"]) == (429, policy.code, policy.name)
        assert problem["retry_after"] == 1 and "retry in 1s" in problem["detail"]
    codes = [p.code for p in DEFAULTS if p.name != "search-address"]
    assert len(set(codes)) == len(codes), "every policy but the address's has its own code"


def test_every_policy_says_what_it_protects() -> None:
    """The operations runbook is written from these: none is left without its reason."""
    assert all(isinstance(p, Rate | Cap) and len(p.protects) > 20 for p in DEFAULTS)
