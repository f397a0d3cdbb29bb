"""What each stand-in process does alike (FIS, ECS tasks): its arguments, and serving an
aiohttp app that moto's server routes a service's requests to until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

import aiohttp
from aiohttp import web

from localaws.moto_server import set_route


def arguments(description: str) -> argparse.ArgumentParser:
    """Return the parser of a stand-in's arguments: its stack's folder, port, emulator."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--region", required=True)
    return parser


async def serve_routed(app: web.Application, *, port: int, endpoint: str, service: str,
                       operations: tuple[str, ...] = (), name: str,
                       also: dict[str, tuple[str, ...]] | None = None) -> None:
    """Serve *app* on *port*, have moto's server at *endpoint* route *service* (or its
    *operations*), and the operations of each service in *also*, to it; on SIGTERM or SIGINT
    give them back and clean up (the app's cleanup stops what it runs)."""
    routes = {service: operations, **(also or {})}
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    for routed, ops in routes.items():
        await set_route(endpoint, routed, f"http://127.0.0.1:{port}", ops)
    print(json.dumps({"message": f"{name} ready", "port": port}), flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()
    try:
        for routed, ops in routes.items():
            await set_route(endpoint, routed, None, ops)
    except (aiohttp.ClientError, OSError):
        pass  # moto stopped first: nothing left to route
    await runner.cleanup()
