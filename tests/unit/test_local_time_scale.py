"""ITINERA_TIME_SCALE overrides the local time scale, within sane bounds."""

from __future__ import annotations

import pytest

from localaws.config import DEFAULT_TIME_SCALE, time_scale


def test_unset_or_empty_gives_the_default() -> None:
    """Without the variable the scale is 0.1: a 60 s period lasts 6 s."""
    assert time_scale({}) == DEFAULT_TIME_SCALE == 0.1
    assert time_scale({"ITINERA_TIME_SCALE": ""}) == 0.1


def test_the_variable_sets_the_scale() -> None:
    """ITINERA_TIME_SCALE=1 runs AWS's own times; 0.05 runs them twenty times faster."""
    assert time_scale({"ITINERA_TIME_SCALE": "1"}) == 1.0
    assert time_scale({"ITINERA_TIME_SCALE": "0.05"}) == 0.05


@pytest.mark.parametrize("raw", ["0", "-1", "2", "fast"])
def test_out_of_range_or_garbage_is_refused(raw: str) -> None:
    """A scale outside (0, 1], or not a number, is an error, not a silent default."""
    with pytest.raises(ValueError):
        time_scale({"ITINERA_TIME_SCALE": raw})
