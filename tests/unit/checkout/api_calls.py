"""Call the checkout API handler as API Gateway does, with a checkout service that records."""

from __future__ import annotations

import asyncio
import base64
import copy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from multidict import CIMultiDict

import checkout.api
from itinera.logs import request_id_var, trace_header_var
from tests.unit.conftest import load_event

CALLER = "3f2b9c1e-7a4d-4e8b-9c2d-1a2b3c4d5e6f"  # the recorded event's subject
BOOKING_ID = "b" * 32
BOOKING_BODY = {"hold_id": "a" * 32, "payment": {"card_number": "4242424242424242"},
                "contact": {"email": "alice@example.com", "name": "Alice"}}


@dataclass
class RecordingService:
    """Answers like the checkout service and records each call, with the request's context."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    seen: list[tuple[str | None, str | None]] = field(default_factory=list)
    fail: BaseException | None = None
    # Let other invocations run in the middle of this one, as real I/O does.
    pause: float = 0.0

    async def _record(self, *call: Any) -> None:
        self.calls.append(call)
        self.seen.append((request_id_var.get(), trace_header_var.get()))
        await asyncio.sleep(self.pause)  # simulates: I/O that lets other invocations run
        if self.fail is not None:
            raise self.fail

    async def start_checkout(self, customer: str, key: str, request: Any) -> Any:
        """Record the checkout; answer 202 pending."""
        await self._record("start_checkout", customer, key, request.model_dump(mode="json"))
        return SimpleNamespace(status=202, body={"booking_id": BOOKING_ID, "status": "pending"})

    async def get_booking(self, customer: str, booking_id: str) -> dict[str, Any]:
        """Record the read; answer the booking."""
        await self._record("get_booking", customer, booking_id)
        return {"booking_id": booking_id, "status": "pending"}

    async def cancel_booking(self, customer: str, booking_id: str) -> dict[str, Any]:
        """Record the cancellation; answer the booking, cancelling."""
        await self._record("cancel_booking", customer, booking_id)
        return {"booking_id": booking_id, "status": "cancelling"}

    async def list_bookings(self, customer: str, *, limit: int, cursor: str | None
                            ) -> dict[str, Any]:
        """Record the listing; answer an empty page."""
        await self._record("list_bookings", customer, limit, cursor)
        return {"items": [], "next_cursor": None}


def use_service(monkeypatch: pytest.MonkeyPatch) -> RecordingService:
    """Make the handler's environment use a recording service; return it."""
    service = RecordingService()

    async def dependencies() -> Any:
        return SimpleNamespace(service=service)

    monkeypatch.setattr(checkout.api, "dependencies", dependencies)
    return service


def rest_event(method: str, path: str, *, resource: str | None = None,
               query: dict[str, list[str]] | None = None,
               headers: dict[str, list[str]] | None = None, body: bytes | None = None,
               base64_body: bool = False, claims: dict[str, str] | None = None
               ) -> dict[str, Any]:
    """Return the recorded REST API event (payload 1.0), asking for *method* and *path*."""
    event = copy.deepcopy(load_event("rest_api_create_booking"))
    event.update(httpMethod=method, path=path, resource=resource or path,
                 multiValueQueryStringParameters=query,
                 queryStringParameters={k: v[-1] for k, v in query.items()} if query else None)
    for name, values in (headers or {}).items():
        event["multiValueHeaders"][name] = values
        event["headers"][name] = values[-1]
    if body is None:
        event["body"] = None
    else:
        event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    event["isBase64Encoded"] = base64_body
    if claims is not None:
        event["requestContext"]["authorizer"] = {"claims": claims} if claims else None
    return event


def call(event: dict[str, Any]) -> tuple[int, CIMultiDict[str], Any]:
    """Invoke the handler with *event*; return the status, headers and JSON body it answers."""
    answer = checkout.api.handler(event, None)
    headers: CIMultiDict[str] = CIMultiDict()
    for name, values in answer.get("multiValueHeaders", {}).items():
        headers.extend((name, value) for value in values)
    return answer["statusCode"], headers, orjson.loads(answer["body"])
