"""The viewer side of the local distribution: how long a client may take, and serving it.

CloudFront documents no limit for slow or idle viewers, so the stand-in takes the local load
balancer's: a request's headers and body within 10 s (a 408 problem otherwise), and ALB's
default idle timeout, 60 s, for a keep-alive connection with no request in progress (a plain
close, which HTTP allows). aiohttp has no deadline for request headers: a client that sends a
byte every few seconds holds its connection until the keep-alive timeout, so each connection
keeps its own deadline from its request's first byte.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web, web_protocol

from itinera.serving import ProblemRequestHandler, ServiceRunner

# After answering a request whose body was not read (a 408, a 413), the rest of it is read and
# dropped this long before the close: closing on unread bytes resets the connection, and the
# client may lose the answer. aiohttp's default, 10 s, would hold a dripping client that long.
LINGER_SECONDS = 2.0


@dataclass(frozen=True, kw_only=True)
class ViewerLimits:
    """How long a viewer may take, in seconds (real work, so never time-scaled)."""

    request_timeout: float = 10.0
    idle_timeout: float = 60.0


class ViewerConnection(ProblemRequestHandler):
    """One viewer's connection: a request not read in time is answered *late_answer*; what
    aiohttp refuses below the app is a problem, as from every Itinera server."""

    def __init__(self, *args: Any, limits: ViewerLimits, late_answer: bytes,
                 on_error: Callable[[web.StreamResponse], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits, self.late_answer, self.on_error = limits, late_answer, on_error
        self.request_began: float | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._in_request = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Give a new connection the request timeout to start its first request."""
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        """Start the request's deadline at its first byte, then parse as aiohttp does."""
        if data and not self._in_request and self.request_began is None:
            self.request_began = self._loop.time()
            self._arm_header_timer()
        super().data_received(data)

    def seconds_left(self) -> float:
        """Return what is left of the current request's deadline (for reading its body)."""
        began = self.request_began if self.request_began is not None else self._loop.time()
        return max(0.0, began + self.limits.request_timeout - self._loop.time())

    async def _handle_request(self, request: web.BaseRequest, start_time: float | None,
                              request_handler: Any) -> Any:
        # aiohttp calls this (a private method; constraints.txt pins aiohttp, and the edge's
        # integration tests fail if it moves) once a request's headers are parsed: the
        # header deadline is met, and the handler bounds the body with seconds_left().
        self._cancel_header_timer()
        self._in_request = True
        try:
            return await super()._handle_request(request, start_time, request_handler)
        finally:
            self._in_request = False
            self.request_began = None

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None
                     ) -> web.StreamResponse:
        """Answer what aiohttp refused below the app, with the edge's headers too."""
        response = super().handle_error(request, status, exc, message)
        self.on_error(response)
        return response

    def connection_lost(self, exc: BaseException | None) -> None:
        """Drop the deadline with the connection."""
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self._loop.call_later(self.limits.request_timeout,
                                                   self._headers_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._in_request or self.transport is None:
            return
        if self.request_began is not None:
            # Written straight to the socket: no request exists to answer through the app.
            self.transport.write(self.late_answer)
        # A connection that never sent a byte is closed quietly, as the load balancer does
        # (browsers open connections ahead of need, and a 408 would confuse them).
        self.force_close()

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None


class _ViewerServer(web.Server):
    def __init__(self, *args: Any, connection: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connection = connection

    def __call__(self) -> web_protocol.RequestHandler:
        return ViewerConnection(self, loop=self._loop, **self._connection, **self._kwargs)


class ViewerRunner(ServiceRunner):
    """The services' runner (bodies as sent, problems below the app, no versions) whose
    connections keep viewer deadlines."""

    def __init__(self, app: web.Application, *, limits: ViewerLimits, late_answer: bytes,
                 on_error: Callable[[web.StreamResponse], None]) -> None:
        super().__init__(app, keepalive_timeout=limits.idle_timeout,
                         lingering_time=LINGER_SECONDS)
        self._connection = {"limits": limits, "late_answer": late_answer,
                            "on_error": on_error}

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The Server builds each connection's handler; the same Server, rebuilt with the same
        # arguments, builds ours (as ServiceRunner does for its own).
        return _ViewerServer(server.request_handler, request_factory=server.request_factory,
                             handler_cancellation=server.handler_cancellation,
                             loop=server._loop, connection=self._connection, **server._kwargs)


async def serve_viewers(runner: ViewerRunner, host: str, port: int) -> None:
    """Serve *runner*'s app on host:port until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await stop.wait()
    finally:
        await runner.cleanup()
