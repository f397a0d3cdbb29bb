"""The search cache: Redis through aiocache, single-flight loads, and MySQL when Redis fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from aiocache import RedisCache
from aiocache.serializers import BaseSerializer

from inventory.metrics import put_metrics

log = logging.getLogger("inventory.cache")

NAMESPACE = "inventory"
# A search must not wait on a sick Redis longer than this before going to MySQL.
OP_TIMEOUT_S = 0.2
# After a Redis failure, skip it for a while instead of paying the timeout on every search.
BACKOFF_S = 5.0

Loader = Callable[[], Awaitable[Any]]


@dataclass
class CacheStats:
    """Counters since start: what the hit ratio and the Redis-down metric are made of."""

    hits: int = 0
    misses: int = 0
    loads: int = 0  # misses that ran a query; the rest joined a load already in flight
    bypassed: int = 0  # lookups that skipped a sick Redis and went straight to MySQL
    redis_errors: int = 0

    def counters(self) -> dict[str, int]:
        """Return the counters as a dict."""
        return asdict(self)

    def report(self) -> dict[str, Any]:
        """Return the counters and the hit ratio of all lookups so far."""
        lookups = self.hits + self.misses
        return {**self.counters(), "hit_ratio": round(self.hits / lookups, 4) if lookups else None}


class OrjsonSerializer(BaseSerializer):  # type: ignore[misc]  # aiocache ships no types
    """Serialize cache values with orjson, as bytes."""

    DEFAULT_ENCODING = None

    def dumps(self, value: Any) -> bytes:
        """Return *value* as JSON bytes."""
        return orjson.dumps(value)

    def loads(self, value: bytes | None) -> Any:
        """Return the object in *value*, or None for a miss."""
        return None if value is None else orjson.loads(value)


def redis_params(url: str) -> dict[str, Any]:
    """Return the RedisCache endpoint, port, db, password and TLS flag of a Redis *url*.

    `rediss://` is TLS, as ElastiCache with in-transit encryption requires; the server's
    certificate is verified against the system's CAs (ElastiCache's are public ones).
    """
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ValueError(f"REDIS_URL must look like redis[s]://host:port/db, got {url!r}")
    path = parts.path.strip("/")
    return {"endpoint": parts.hostname, "port": parts.port or 6379,
            "db": int(path) if path else 0,
            "password": unquote(parts.password) if parts.password else None,
            "ssl": parts.scheme == "rediss"}


class SearchCache:
    """Cache JSON results by key; concurrent misses on one key share one load."""

    def __init__(self, cache: RedisCache, *, ttl: int) -> None:
        self.cache = cache
        self.ttl = ttl
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._skip_until = 0.0
        self.stats = CacheStats()
        self.last_error: str | None = None

    @property
    def degraded(self) -> bool:
        """Return whether Redis failed recently and searches skip it."""
        return not self._usable()

    async def get_or_load(self, key: str, load: Loader) -> tuple[Any, bool]:
        """Return (value, was_cached); on a miss run *load* once however many callers wait."""
        cached = await self._get(key)
        if cached is not None:
            self.stats.hits += 1
            return cached, True
        self.stats.misses += 1
        task = self._inflight.get(key)
        if task is None:
            self.stats.loads += 1
            task = asyncio.create_task(self._load_and_store(key, load))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        # shield: one caller giving up must not cancel the load the others wait on.
        return await asyncio.shield(task), False

    async def close(self) -> None:
        """Cancel loads still running and close the Redis connections."""
        for task in list(self._inflight.values()):
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        # aiocache's close() leaves a socket open with redis 5.2.1; aclose() does not.
        await self.cache.client.aclose()

    async def ping(self) -> None:
        """Raise unless Redis answers PING."""
        await self.cache.client.ping()

    def _forget(self, key: str, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # marks it retrieved; the waiters got it already

    async def _load_and_store(self, key: str, load: Loader) -> Any:
        value = await load()
        if self._usable():
            try:
                await self.cache.set(key, value, ttl=self.ttl)
            except Exception as exc:
                self._failed("set", exc)
        return value

    async def _get(self, key: str) -> Any:
        if not self._usable():
            self.stats.bypassed += 1
            return None
        try:
            return await self.cache.get(key)
        except Exception as exc:
            self._failed("get", exc)
            return None

    def _usable(self) -> bool:
        return asyncio.get_running_loop().time() >= self._skip_until

    def _failed(self, op: str, exc: Exception) -> None:
        self._skip_until = asyncio.get_running_loop().time() + BACKOFF_S
        self.stats.redis_errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("redis unavailable, serving from mysql",
                    extra={"op": op, "error": self.last_error})
        put_metrics({"RedisUnavailable": 1})


def new_redis_cache(url: str) -> RedisCache:
    """Build the aiocache client for *url*; it connects on first use."""
    return RedisCache(**redis_params(url), namespace=NAMESPACE, serializer=OrjsonSerializer(),
                      timeout=OP_TIMEOUT_S, create_connection_timeout=OP_TIMEOUT_S,
                      connection_pool_kwargs={"socket_timeout": OP_TIMEOUT_S})
