"""Real aiohttp targets and a real HAProxy in front of them, for the load balancer's tests."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from localaws.elb import (
    Balancer,
    RuntimeApi,
    Target,
    TargetGroup,
    Timeouts,
    socket_path,
    start_balancer,
    target_groups,
)
from localaws.processes import Supervisor, port_open, wait_http
from localaws.template import load_sam, transform
from tests.waiting import eventually


@pytest.fixture(scope="session", autouse=True)
def _servers(services: None) -> None:
    """This tier talks to the real MariaDB and Redis: make them answer first."""



def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Faults:
    """What the targets should do next; shared, since a retry may land on either."""

    die_next: int = 0  # abort this many /work requests before answering, as a task dying
    served: list[str] = field(default_factory=list)  # the AZ of every /work request received


@dataclass
class FakeTask:
    """One target the test controls: an aiohttp app on its own port in one AZ."""

    az: str
    faults: Faults
    healthy: bool = True
    port: int = 0
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Serve on a free port."""
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_get("/health", self._health)
        app.router.add_route("*", "/work", self._work)
        app.router.add_route("*", "/slow", self._slow)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response({"az": self.az}, status=200 if self.healthy else 500)

    async def _work(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.faults.served.append(self.az)
        if self.faults.die_next > 0:
            self.faults.die_next -= 1
            assert request.transport is not None
            request.transport.abort()
        headers = {name.lower(): value for name, value in request.headers.items()}
        return web.json_response({"az": self.az, "headers": headers,
                                  "body_bytes": len(body)})

    async def _slow(self, request: web.Request) -> web.Response:
        self.faults.served.append(self.az)
        # simulates: a task slow to answer, for the balancer's timeouts
        await asyncio.sleep(float(request.query.get("seconds", "3")))
        return web.json_response({"az": self.az})


@dataclass
class RunningBalancer:
    """A HAProxy process in front of fake tasks."""

    url: str
    api: RuntimeApi
    tasks: list[FakeTask]
    faults: Faults
    state_dir: Path
    config: Balancer

    def server_state(self, server: str) -> str:
        """Return HAProxy's operational state of *server* (`running` or `stopped`)."""
        return next(s.op_state for s in self.api.servers_state("gateway") if s.name == server)


@pytest.fixture(scope="session")
def gateway_group() -> TargetGroup:
    """The gateway's target group as the template declares it."""
    template = transform(load_sam(), region="eu-west-1",
                         parameters={"InventoryUrl": "http://127.0.0.1:8081"})
    return target_groups(template)["gateway"]


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Supervisor]:
    """The stack's supervisor, in a folder of the test's own; it stops what it started."""
    running = Supervisor(tmp_path)
    yield running
    running.stop_all()


BalancerFactory = Callable[..., Awaitable[RunningBalancer]]


@pytest.fixture
async def balancer(supervisor: Supervisor, gateway_group: TargetGroup
                   ) -> AsyncIterator[BalancerFactory]:
    """Start two fake tasks (az-a, az-b) and HAProxy in front of them, as the stack does."""
    tasks: list[FakeTask] = []

    async def start(*, timeouts: Timeouts | None = None, listening: bool = True
                    ) -> RunningBalancer:
        faults = Faults()
        for az in ("az-a", "az-b"):
            task = FakeTask(az=az, faults=faults)
            if listening:
                await task.start()
            else:
                task.port = free_port()  # a task that is gone: nothing listens there
            tasks.append(task)
        config = Balancer(name="gateway", port=free_port(), group=gateway_group,
                          targets=tuple(Target(az=t.az, port=t.port) for t in tasks),
                          socket=socket_path(supervisor.state_dir, "gateway"),
                          timeouts=timeouts or Timeouts(http_request=2.0, server=1.0))
        child = start_balancer(supervisor, config)
        running = RunningBalancer(url=f"http://127.0.0.1:{config.port}",
                                  api=RuntimeApi(config.socket), tasks=tasks, faults=faults,
                                  state_dir=supervisor.state_dir, config=config)
        await eventually(lambda: child.alive() and port_open("127.0.0.1", config.port)
                         and config.socket.exists(), within=10, what="haproxy listening")
        return running

    yield start
    for task in tasks:
        if task.runner is not None:
            await task.runner.cleanup()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """The stack's moto server (localaws.moto_server) of this module's own."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localaws.moto_server", "-H", "127.0.0.1",
         "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/moto-api/", child=None, timeout=30)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
