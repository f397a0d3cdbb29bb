"""One asyncio TCP proxy in front of one dependency for one AZ, applying its current fault."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from dataclasses import dataclass
from typing import Any

from localaws.faults.model import MIN_RTO_S, PASS, SYN_RTO_S, Fault

CHUNK = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Route:
    """Where a proxy listens and what it forwards to."""

    dependency: str
    az: str
    listen_host: str
    listen_port: int
    upstream_host: str
    upstream_port: int

    @property
    def name(self) -> str:
        """Return the proxy's name, `<dependency>-<az>`."""
        return f"{self.dependency}-{self.az}"


class FaultProxy:
    """Forward TCP connections to the upstream, with the fault currently set applied."""

    def __init__(self, route: Route, *, rng: random.Random | None = None) -> None:
        self.route = route
        self.fault: Fault = PASS
        self._rng = rng or random.Random()  # noqa: S311 - fault injection, not cryptography
        self._server: asyncio.Server | None = None
        self._port = route.listen_port
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._lift: asyncio.TimerHandle | None = None
        self._lifting: set[asyncio.Task[None]] = set()
        self.accepted = 0

    @property
    def port(self) -> int:
        """Return the port the proxy listens on (known once started, also for port 0)."""
        return self._port

    async def start(self) -> None:
        """Listen; a port of 0 picks a free one, kept for every later re-listen."""
        self._server = await asyncio.start_server(self._accept, self.route.listen_host,
                                                  self._port, reuse_address=True)
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        self._cancel_lift()
        await self._close_listener()
        self._drop_connections()
        # Aborted sockets end each connection's pumps; cancelling the accept callbacks instead
        # would make asyncio log their cancellation as an error.
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=5)

    async def apply(self, fault: Fault) -> None:
        """Make *fault* the current one; a duration lifts it back to pass by itself."""
        self._cancel_lift()
        previous, self.fault = self.fault, fault
        if fault.mode == "cut":
            # As an Aurora failover: every connection dropped, new ones refused.
            await self._close_listener()
            self._drop_connections()
        elif previous.mode == "cut" and self._server is None:
            await self.start()
        if fault.duration_s is not None and fault.mode != "pass":
            loop = asyncio.get_running_loop()
            self._lift = loop.call_later(fault.duration_s, self._lift_now)

    def _lift_now(self) -> None:
        task = asyncio.get_running_loop().create_task(self.apply(PASS))
        self._lifting.add(task)  # held, or the loop could collect it mid-flight
        task.add_done_callback(self._lifting.discard)

    def status(self) -> dict[str, Any]:
        """Return the route, the fault in force and the open connections."""
        return {"name": self.route.name, "dependency": self.route.dependency, "az": self.route.az,
                "listen": f"{self.route.listen_host}:{self._port}",
                "upstream": f"{self.route.upstream_host}:{self.route.upstream_port}",
                "fault": self.fault.as_json(), "listening": self._server is not None,
                "connections": len(self._writers), "accepted": self.accepted}

    def _cancel_lift(self) -> None:
        if self._lift is not None:
            self._lift.cancel()
            self._lift = None

    async def _close_listener(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            await server.wait_closed()

    def _drop_connections(self) -> None:
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.accepted += 1
        try:
            await self._serve(reader, writer)
        finally:
            self._connections.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.fault.mode == "cut":  # a connection that raced the listener closing
            _abort(writer)
            return
        if self.fault.mode == "drop" and self._rng.random() < self.fault.probability:
            await asyncio.sleep(SYN_RTO_S)  # the SYN was "lost"; the client resends after 1 s
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.route.upstream_host, self.route.upstream_port)
        except OSError:
            _abort(writer)
            return
        self._writers.update((writer, up_writer))
        pumps = [asyncio.create_task(self._pump(reader, up_writer, egress=True)),
                 asyncio.create_task(self._pump(up_reader, writer, egress=False))]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for w in (writer, up_writer):
                self._writers.discard(w)
                _abort(w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                    egress: bool) -> None:
        """Copy one direction; faults apply to the task's egress, as FIS's ECS actions do."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                # Queued with its due time, so a delay adds latency without capping throughput.
                await asyncio.sleep(max(0.0, due - loop.time()))
                if not data:
                    writer.write_eof() if writer.can_write_eof() else writer.close()
                    return
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while True:
                data = await reader.read(CHUNK)
                extra = self._cost(egress) if data else 0.0
                if extra is None:  # the fault closed the connection
                    return
                queue.put_nowait((loop.time() + extra, data))
                if not data:
                    await sender
                    return
        except (ConnectionError, OSError):
            return
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await sender

    def _cost(self, egress: bool) -> float | None:
        """Return the seconds one chunk waits, or None when the fault closes the connection."""
        fault = self.fault
        if not egress or fault.mode == "pass":
            return 0.0
        if fault.mode == "delay":
            jitter = self._rng.uniform(-fault.jitter_ms, fault.jitter_ms)
            return (fault.delay_ms + jitter) / 1000
        if fault.mode == "drop":
            if self._rng.random() < fault.close_probability:
                return None
            stall, rto = 0.0, MIN_RTO_S
            # Each loss of the retransmission doubles the wait, as TCP's backoff does.
            while self._rng.random() < fault.probability and rto < 60:
                stall, rto = stall + rto, rto * 2
            return stall
        return None


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once with a reset, as a dropped connection looks to its peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
