"""Token buckets per client, in memory and bounded (pure logic, no I/O)."""

from __future__ import annotations

import time
from collections import OrderedDict


class RateLimiter:
    """Token buckets by client, refilled at *rate* per second up to *burst*; bounded memory."""

    def __init__(self, *, rate: float, burst: float, max_clients: int = 50_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait_time(self, client: str, now: float | None = None) -> float:
        """Take a token for *client*; return 0 if it had one, else seconds until it will."""
        now = time.monotonic() if now is None else now
        tokens, updated = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens >= 1:
            self._buckets[client] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[client] = (tokens, now)
            wait = (1 - tokens) / self.rate
        # The least recently seen clients go first; a full bucket is what they would get anyway.
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait
