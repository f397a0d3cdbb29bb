"""The fault proxies' control API: HTTP on localhost to read, set and lift faults."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiohttp import web

from localaws.faults.model import PASS, Fault, FaultError
from localaws.faults.proxy import FaultProxy, Route


class FaultProxies:
    """Every proxy of the stack, by name (`<dependency>-<az>`)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.by_name: dict[str, FaultProxy] = {r.name: FaultProxy(r) for r in routes}

    async def start(self) -> None:
        """Start listening on every route."""
        for proxy in self.by_name.values():
            await proxy.start()

    async def stop(self) -> None:
        """Close every proxy and its connections."""
        for proxy in self.by_name.values():
            await proxy.stop()

    def select(self, *, dependency: str | None = None, az: str | None = None) -> list[FaultProxy]:
        """Return the proxies of *dependency* in *az*; None matches every one."""
        return [p for p in self.by_name.values()
                if dependency in (None, p.route.dependency) and az in (None, p.route.az)]

    async def apply(self, fault: Fault, *, dependency: str | None = None,
                    az: str | None = None) -> list[str]:
        """Apply *fault* to the selected proxies; return their names."""
        chosen = self.select(dependency=dependency, az=az)
        for proxy in chosen:
            await proxy.apply(fault)
        return [p.route.name for p in chosen]

    async def clear(self) -> list[str]:
        """Lift every fault (the rollback a game day always plays)."""
        return await self.apply(PASS)

    def status(self) -> list[dict[str, Any]]:
        """Return every proxy's route, fault and connections."""
        return [p.status() for p in self.by_name.values()]


PROXIES = web.AppKey("proxies", FaultProxies)


def _proxies(request: web.Request) -> FaultProxies:
    return request.app[PROXIES]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text=f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object is expected")
    return body


def _fault(data: object) -> Fault:
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="fault must be a JSON object")
    try:
        return Fault.from_json(data)
    except FaultError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from exc


async def list_faults(request: web.Request) -> web.Response:
    """GET /faults: every proxy and the fault in force."""
    return web.json_response({"proxies": _proxies(request).status()})


async def set_faults(request: web.Request) -> web.Response:
    """PUT /faults {"dependency"?, "az"?, "fault": {...}}: apply to every matching proxy."""
    body = await _body(request)
    fault = _fault(body.get("fault"))
    names = await _proxies(request).apply(fault, dependency=body.get("dependency"),
                                          az=body.get("az"))
    if not names:
        raise web.HTTPNotFound(text="no proxy matches")
    return web.json_response({"applied": names, "fault": fault.as_json()})


async def set_fault(request: web.Request) -> web.Response:
    """PUT /faults/{name} {...fault}: apply to one proxy."""
    proxy = _proxies(request).by_name.get(request.match_info["name"])
    if proxy is None:
        raise web.HTTPNotFound(text=f"no proxy {request.match_info['name']}")
    fault = _fault(await _body(request))
    await proxy.apply(fault)
    return web.json_response(proxy.status())


async def clear_faults(request: web.Request) -> web.Response:
    """DELETE /faults: lift every fault."""
    return web.json_response({"cleared": await _proxies(request).clear()})


def create_app(proxies: FaultProxies) -> web.Application:
    """Build the control API over *proxies*, which it starts and stops with the app."""
    app = web.Application()
    app[PROXIES] = proxies

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        await proxies.start()
        yield
        await proxies.stop()

    app.cleanup_ctx.append(lifetime)
    app.router.add_get("/faults", list_faults)
    app.router.add_put("/faults", set_faults)
    app.router.add_delete("/faults", clear_faults)
    app.router.add_put("/faults/{name}", set_fault)
    return app
