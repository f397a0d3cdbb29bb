"""Waiting for a state with a deadline: the one place tests poll, so none sleeps a fixed time.

A check answers truthy once the state is reached. It may also raise AssertionError to say
"not yet, and here is why": the last such error becomes the failure's message, so a wait
that times out names what it saw, not only what it wanted.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

T = TypeVar("T")


def _failure(what: str, within: float, last: AssertionError | None, value: object
             ) -> AssertionError:
    seen = f": {last}" if last is not None and str(last) else f" (last answer: {value!r})"
    return AssertionError(f"not within {within:g}s: {what}{seen}")


def _answer(value: object, started: float) -> Any:
    # A check that answers True says only "reached": how long it took is the useful answer.
    return time.monotonic() - started if value is True else value


# Async checks first: a coroutine function is also a callable returning a (truthy) object.
@overload
async def eventually(check: Callable[[], Awaitable[bool]], *, within: float, what: str,
                     every: float = ...) -> float: ...


@overload
async def eventually(check: Callable[[], Awaitable[T | None]], *, within: float, what: str,
                     every: float = ...) -> T: ...


@overload
async def eventually(check: Callable[[], bool], *, within: float, what: str,
                     every: float = ...) -> float: ...


@overload
async def eventually(check: Callable[[], T | None], *, within: float, what: str,
                     every: float = ...) -> T: ...


async def eventually(check: Callable[[], Any], *, within: float, what: str,
                     every: float = 0.05) -> Any:
    """Call *check* (sync or async) every *every* s until it answers truthy and return that
    answer (the seconds waited if it is `True`), or fail naming *what* after *within* s."""
    started = time.monotonic()
    last: AssertionError | None = None
    while True:
        value: object = None
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
        except AssertionError as exc:
            last = exc
        else:
            if value:
                return _answer(value, started)
            last = None
        if time.monotonic() - started >= within:
            raise _failure(what, within, last, value) from last
        await asyncio.sleep(every)


@overload
def eventually_sync(check: Callable[[], bool], *, within: float, what: str,
                    every: float = ...) -> float: ...


@overload
def eventually_sync(check: Callable[[], T | None], *, within: float, what: str,
                    every: float = ...) -> T: ...


def eventually_sync(check: Callable[[], Any], *, within: float, what: str,
                    every: float = 0.05) -> Any:
    """The blocking twin of `eventually`, for code outside an event loop (fixtures starting
    subprocesses, threads)."""
    started = time.monotonic()
    last: AssertionError | None = None
    while True:
        value: object = None
        try:
            value = check()
        except AssertionError as exc:
            last = exc
        else:
            if value:
                return _answer(value, started)
            last = None
        if time.monotonic() - started >= within:
            raise _failure(what, within, last, value) from last
        time.sleep(every)
