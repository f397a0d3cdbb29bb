"""HTTP/1.1 over a bare socket, for tests that send bytes no client library would send."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from multidict import CIMultiDict


@dataclass
class Answer:
    """One HTTP/1.1 response as it came off the socket."""

    status: int
    headers: CIMultiDict[str]  # a proxy may send names in lower case (HAProxy does)
    body: bytes

    def json(self) -> Any:
        """Return the body parsed as JSON."""
        return orjson.loads(self.body)


async def exchange(port: int, raw: bytes, *, within: float = 10) -> Answer:
    """Send *raw* bytes, read one response; fail if the connection closes without one."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(within):
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers: CIMultiDict[str] = CIMultiDict()
            for line in filter(None, lines):
                name, _, value = line.partition(": ")
                headers.add(name, value)
            body = await reader.readexactly(int(headers.get("Content-Length", "0")))
    finally:
        writer.close()
    return Answer(int(status_line.split()[1]), headers, body)


def request(method: str, path: str, *headers: bytes, body: bytes = b"",
            host: bytes = b"itinera.test") -> bytes:
    """Return an HTTP/1.1 request with *headers* exactly as given, and Connection: close."""
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + host, b"Connection: close",
             *headers]
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body
