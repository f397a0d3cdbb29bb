"""A local stand-in for an Application Load Balancer: health-checked targets in two AZs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from itinera.logs import configure_logging

log = logging.getLogger("itinera.alb")
# Headers that belong to one hop of the connection, never forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host",
                        "content-length"})


@dataclass
class Target:
    """One registered instance and what the health checks think of it."""

    az: str
    url: str
    healthy: bool = False
    passes: int = 0
    failures: int = 0


@dataclass
class TargetGroup:
    """Targets with ALB-like health checks: a target serves after N passes, leaves after N fails."""

    targets: list[Target]
    path: str = "/health"
    interval: float = 1.0
    timeout: float = 1.0
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    _cycle: itertools.cycle[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._cycle = itertools.cycle(range(len(self.targets)))

    def pick(self) -> Target | None:
        """Return the next healthy target, round robin, or None if none is healthy."""
        for _ in range(len(self.targets)):
            target = self.targets[next(self._cycle)]
            if target.healthy:
                return target
        return None

    def record(self, target: Target, ok: bool) -> None:
        """Count one health check result and flip the target's state at the thresholds."""
        if ok:
            target.passes, target.failures = target.passes + 1, 0
            if not target.healthy and target.passes >= self.healthy_threshold:
                target.healthy = True
                log.info("target healthy", extra={"az": target.az, "target": target.url})
        else:
            target.failures, target.passes = target.failures + 1, 0
            if target.healthy and target.failures >= self.unhealthy_threshold:
                target.healthy = False
                log.warning("target unhealthy", extra={"az": target.az, "target": target.url})

    async def check_forever(self, session: aiohttp.ClientSession) -> None:
        """Probe every target each interval."""
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        while True:
            async def probe(target: Target) -> None:
                try:
                    async with session.get(target.url + self.path, timeout=timeout) as resp:
                        self.record(target, resp.status == 200)
                except (aiohttp.ClientError, TimeoutError):
                    self.record(target, False)

            await asyncio.gather(*(probe(t) for t in self.targets))
            await asyncio.sleep(self.interval)


group_key = web.AppKey("group", TargetGroup)
session_key = web.AppKey("session", aiohttp.ClientSession)


async def forward(request: web.Request) -> web.StreamResponse:
    """Send the request to a healthy target; 503 if none, 502 if the target fails, as ALB."""
    group = request.app[group_key]
    target = group.pick()
    if target is None:
        return web.json_response({"message": "no healthy target"}, status=503)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
    headers["X-Forwarded-Proto"] = "http"
    body = await request.read()
    try:
        async with request.app[session_key].request(
                request.method, target.url + request.path_qs, headers=headers,
                data=body or None, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=60)) as upstream:
            payload = await upstream.read()
            response = web.Response(status=upstream.status, body=payload)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP:
                    response.headers.add(name, value)
            return response
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("target failed", extra={"az": target.az, "target": target.url,
                                            "error": repr(exc)})
        return web.json_response({"message": "bad gateway"}, status=502)


def create_app(group: TargetGroup) -> web.Application:
    """Return the balancer app; health checks run while it serves."""
    app = web.Application(client_max_size=1024 * 1024)
    app[group_key] = group

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            app[session_key] = session
            task = asyncio.create_task(group.check_forever(session))
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(lifecycle)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    """Entry point: `python -m itinera.localstack.alb --port P --target az-a=URL ...`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", action="append", required=True, help="AZ=URL")
    args = parser.parse_args()
    configure_logging(f"alb-{args.name}")
    targets = [Target(az=t.split("=", 1)[0], url=t.split("=", 1)[1].rstrip("/"))
               for t in args.target]
    web.run_app(create_app(TargetGroup(targets)), host="127.0.0.1", port=args.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
