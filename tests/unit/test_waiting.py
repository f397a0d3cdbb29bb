"""The waiting helpers: a state reached returns at once, a state never reached fails by name."""

from __future__ import annotations

import pytest

from tests.waiting import eventually, eventually_sync


async def test_eventually_returns_the_checks_answer_once_truthy() -> None:
    """A sync check answering None twice, then a value: the value comes back."""
    answers = iter([None, None, {"status": "confirmed"}])
    got = await eventually(lambda: next(answers), within=5, what="confirmed", every=0)
    assert got == {"status": "confirmed"}


async def test_eventually_awaits_an_async_check_and_returns_the_wait_for_true() -> None:
    """An async check answering True: the seconds waited come back, a float."""
    calls = []

    async def check() -> bool:
        calls.append(1)
        return len(calls) == 3

    waited = await eventually(check, within=5, what="third call", every=0)
    assert isinstance(waited, float) and waited >= 0 and len(calls) == 3


async def test_eventually_fails_naming_what_and_the_last_assertion() -> None:
    """A check that never holds fails after *within* with *what* and its last complaint."""
    def check() -> bool:
        raise AssertionError("status still pending")

    with pytest.raises(AssertionError, match=r"not within 0\.1s: booking settled: status "
                                             r"still pending"):
        await eventually(check, within=0.1, what="booking settled")


def test_eventually_sync_waits_and_fails_the_same_way() -> None:
    """The blocking twin returns the answer, and fails naming *what* with the last answer."""
    answers = iter([0, 0, 7])
    assert eventually_sync(lambda: next(answers), within=5, what="seven", every=0) == 7
    with pytest.raises(AssertionError, match=r"not within 0\.1s: port open \(last answer: "
                                             r"False\)"):
        eventually_sync(lambda: False, within=0.1, what="port open")
