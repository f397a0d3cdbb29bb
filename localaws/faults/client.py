"""Talking to a running fault proxy's control API (the game-day executor's side)."""

from __future__ import annotations

from typing import Any

import aiohttp

from localaws.faults.model import Fault


class FaultControl:
    """The control API of one fault-proxy process, at *base_url* (http://127.0.0.1:port)."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self._base = base_url.rstrip("/")
        self._session = session

    async def status(self) -> list[dict[str, Any]]:
        """Return every proxy with the fault in force."""
        async with self._session.get(f"{self._base}/faults") as response:
            response.raise_for_status()
            return list((await response.json())["proxies"])

    async def apply(self, fault: Fault, *, dependency: str | None = None,
                    az: str | None = None) -> list[str]:
        """Apply *fault* to the proxies of *dependency* in *az*; return their names."""
        body: dict[str, Any] = {"fault": fault.as_json()}
        if dependency is not None:
            body["dependency"] = dependency
        if az is not None:
            body["az"] = az
        async with self._session.put(f"{self._base}/faults", json=body) as response:
            if response.status >= 400:
                raise ValueError(f"fault refused ({response.status}): {await response.text()}")
            return list((await response.json())["applied"])

    async def clear(self) -> list[str]:
        """Lift every fault."""
        async with self._session.delete(f"{self._base}/faults") as response:
            response.raise_for_status()
            return list((await response.json())["cleared"])
