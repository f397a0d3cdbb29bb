"""One public operation: its route, who may call it, and the models its input must fit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from gateway.keys import edge_cache_key, settings_key, verifier_key
from itinera.api.bookings import idempotency_key
from itinera.api.types import CABINS, Contract, anchored
from itinera.api.validation import parse_body, parse_query
from itinera.auth import Principal, require_admin
from itinera.errors import BadRequest, RequestTimeout
from itinera.routes import PATH_PATTERNS, Route, aiohttp_path
from itinera.web import IDEMPOTENCY_HEADER
from itinera.web import read_body as read_decoded_body

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Auth = Literal["none", "traveller", "admin"]

# Every path parameter: the pattern its route admits (one for every service), and the schema
# the document gives it.
PATH_PARAMS: dict[str, tuple[str, dict[str, Any]]] = {
    name: (pattern, {"enum": list(CABINS)} if name == "cabin"
           else {"type": "string", "pattern": anchored(pattern)})
    for name, pattern in PATH_PATTERNS.items()}


@dataclass(frozen=True, kw_only=True)
class Operation(Route[Handler]):
    """A method and path of the public API, with everything the document says about it."""

    operation_id: str
    summary: str
    ok: int = 200
    response: type[BaseModel] | None = None
    query: type[Contract] | None = None
    body: type[Contract] | None = None
    auth: Auth = "none"
    # Idempotency-Key: "required" (bookings), "optional" (holds) or not accepted ("").
    idempotency: Literal["", "optional", "required"] = ""
    errors: tuple[int, ...] = ()
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    tag: str = "travellers"
    # Answers may come from the edge cache (public searches, the same for every caller).
    cached: bool = False

    @property
    def route(self) -> str:
        """Return the aiohttp route, each parameter constrained to its pattern."""
        return aiohttp_path(self.path)


@dataclass(frozen=True)
class Valid:
    """What the edge accepted: the caller, the query and the body, as models."""

    principal: Principal | None
    query: Contract | None
    body: Contract | None
    idempotency_key: str | None


_VALID = web.RequestKey("valid", Valid)


def valid(request: web.Request) -> Valid:
    """Return what the edge validated for *request*."""
    return request[_VALID]


def checked(op: Operation) -> Handler:
    """Return *op*'s handler behind authentication and validation, in that order."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if op.cached:
            # Only request lines that validated before are in the cache.
            hit = request.app[edge_cache_key].get(request.raw_path)
            if hit is not None:
                return hit.response()
        principal = None
        if op.auth != "none":
            principal = request.app[verifier_key].verify(request.headers.get("Authorization"))
            if op.auth == "admin":
                require_admin(principal)
        if op.query is not None:
            query = parse_query(op.query, request.query)
        elif request.query:
            raise BadRequest(f"unknown query parameters: {', '.join(sorted(request.query))}")
        else:
            query = None
        raw_key = request.headers.get(IDEMPOTENCY_HEADER)
        key = None
        if op.idempotency == "required" or (op.idempotency and raw_key is not None):
            key = idempotency_key(raw_key)
        body = None
        if op.body is not None:
            body = parse_body(op.body, await read_body(request), request.headers.get(
                "Content-Type"))
        request[_VALID] = Valid(principal, query, body, key)
        return await op.handler(request)

    return handle


async def read_body(request: web.Request) -> bytes:
    """Read the body, decoded, within the body timeout and size limit."""
    settings = request.app[settings_key]
    try:
        async with asyncio.timeout(settings.body_timeout_seconds):
            return await read_decoded_body(request)
    except TimeoutError as exc:
        raise RequestTimeout(
            f"the body did not arrive within {settings.body_timeout_seconds:g}s") from exc


def register(app: web.Application, operations: list[Operation]) -> None:
    """Add every operation's route to *app*."""
    for op in operations:
        app.router.add_route(op.method, op.route, checked(op), name=op.operation_id)

