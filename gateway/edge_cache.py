"""A short-lived cache of public search answers in each gateway task, in front of inventory."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Answer:
    """A search answer as the gateway relays it: status, content type and body."""

    status: int
    content_type: str
    body: bytes

    def response(self) -> web.Response:
        """Return the answer as a response of its own (headers are per response)."""
        return web.Response(status=self.status, body=self.body,
                            headers={"Content-Type": self.content_type})


class EdgeCache:
    """Answers by request line for *ttl* seconds, one upstream call per key at a time.

    Searches are already cached by inventory for up to 30 s; holding them here for a second
    more spares the hop to inventory on every hot search, as a CDN does in front of an API.
    """

    def __init__(self, *, ttl: float, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, Answer]] = OrderedDict()
        self._loading: dict[str, asyncio.Task[Answer]] = {}
        self.hits = self.misses = 0

    def get(self, key: str) -> Answer | None:
        """Return the fresh answer under *key*, if any."""
        entry = self._entries.get(key)
        if entry is None or entry[0] < self.clock():
            return None
        self.hits += 1
        return entry[1]

    async def load(self, key: str, fetch: Callable[[], Awaitable[Answer]]) -> Answer:
        """Return the answer under *key*, fetching it once however many ask at the same time.

        The fetch runs as its own task: a requester that goes away does not cancel it for the
        others waiting on it.
        """
        cached = self.get(key)
        if cached is not None:
            return cached
        task = self._loading.get(key)
        if task is None:
            self.misses += 1
            task = asyncio.create_task(self._fetch(key, fetch))
            self._loading[key] = task
        else:
            self.hits += 1
        return await asyncio.shield(task)

    async def _fetch(self, key: str, fetch: Callable[[], Awaitable[Answer]]) -> Answer:
        try:
            answer = await fetch()
        finally:
            del self._loading[key]
        if answer.status == 200:
            self._store(key, answer)
        return answer

    def _store(self, key: str, answer: Answer) -> None:
        if self.ttl <= 0:
            return
        self._entries[key] = (self.clock() + self.ttl, answer)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
