"""Load generator for the concurrency tests: fire N identical POSTs at once, print outcomes.

Run as a separate OS process: `python fire.py URL COUNT BODY_JSON TOKEN START_AT`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp


async def fire(url: str, count: int, body: str, token: str, start_at: float) -> list[list[object]]:
    """Wait until *start_at* (epoch seconds), then send *count* requests concurrently."""
    connector = aiohttp.TCPConnector(limit=count)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(n: int) -> list[object]:
            headers = {"X-Service-Token": token, "X-Customer-Id": f"load-{n}",
                       "Content-Type": "application/json"}
            async with session.post(url, data=body, headers=headers) as resp:
                payload = await resp.json(content_type=None)
                return [resp.status, payload.get("code"), payload.get("id")]

        # simulates: clients in several processes arriving at one instant (a start barrier)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        return list(await asyncio.gather(*(one(n) for n in range(count))))


if __name__ == "__main__":
    url, count, body, token, start_at = sys.argv[1:6]
    print(json.dumps(asyncio.run(fire(url, int(count), body, token, float(start_at)))))
