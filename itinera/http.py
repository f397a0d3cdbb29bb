"""The one HTTP client helper: timeouts, bounded retries with jitter, problem+json errors."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict

from itinera.errors import DependencyUnavailable, ItineraError, error_for_problem
from itinera.tracing import outgoing_headers

log = logging.getLogger("itinera.http")
RETRYABLE_STATUS = frozenset({502, 503, 504})


class ServiceClient:
    """Call another service's JSON API at *base_url*."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, *, name: str,
                 headers: dict[str, str] | None = None, timeout: float = 5.0,
                 attempts: int = 3) -> None:
        self.name = name
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.headers = headers or {}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts

    async def request(self, method: str, path: str, *, json: Any = None,
                      headers: dict[str, str] | None = None, retry: bool = True
                      ) -> tuple[int, CIMultiDict[str], Any]:
        """Send a JSON request and return status, headers and the parsed JSON body."""
        body = orjson.dumps(json) if json is not None else None
        merged = dict(headers or {})
        if body is not None:
            merged["Content-Type"] = "application/json"
        status, response_headers, raw = await self.send(method, path, body=body, headers=merged,
                                                        retry=retry)
        try:
            return status, response_headers, orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            if status < 400:
                raise DependencyUnavailable(
                    f"the {self.name} service answered something other than JSON") from None
            return status, response_headers, None  # a platform's error page; status says it

    async def send(self, method: str, path: str, *, body: bytes | None = None,
                   headers: dict[str, str] | None = None, retry: bool = True
                   ) -> tuple[int, CIMultiDict[str], bytes]:
        """Send raw bytes; retry connection errors and 502/503/504 when *retry* is set."""
        merged = {**self.headers, **(headers or {})}
        for name, value in outgoing_headers().items():
            merged.setdefault(name, value)
        attempts = self.attempts if retry else 1
        last_error: Exception | None = None
        for attempt in range(attempts):
            try:
                async with self.session.request(method, self.base_url + path, data=body,
                                                headers=merged, timeout=self.timeout) as resp:
                    raw = await resp.read()
                    if resp.status in RETRYABLE_STATUS and attempt + 1 < attempts:
                        last_error = RuntimeError(f"{path} answered {resp.status}")
                    else:
                        # Case-insensitive: a balancer may lower-case names (HAProxy does).
                        return resp.status, CIMultiDict(resp.headers), raw
            except (TimeoutError, aiohttp.ClientConnectionError) as exc:
                last_error = exc
            # Full jitter keeps a herd of retrying callers from arriving together.
            await asyncio.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311
        # The client learns which dependency failed, never where it lives; the log has that.
        log.warning("dependency unreachable", extra={
            "dependency": self.name, "url": self.base_url + path, "error": repr(last_error)})
        raise DependencyUnavailable(f"the {self.name} service is unavailable; retry shortly")

    async def call(self, method: str, path: str, *, json: Any = None,
                   headers: dict[str, str] | None = None, retry: bool = True) -> Any:
        """Send one request and return its JSON body; a 4xx/5xx raises the matching error."""
        status, _, data = await self.request(method, path, json=json, headers=headers,
                                             retry=retry)
        if status >= 500:
            # A dependency's failure, whatever its shape, is a 503 to whoever called us.
            log.warning("dependency failed", extra={
                "dependency": self.name, "path": path, "status": status})
            raise DependencyUnavailable(f"the {self.name} service is unavailable; retry shortly")
        if status >= 400:
            if isinstance(data, dict) and "code" in data:
                raise error_for_problem(status, data)
            raise ItineraError.answered(status, "upstream_refused", "Refused upstream",
                                        f"the {self.name} service answered {status}")
        return data
