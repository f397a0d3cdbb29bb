"""A hold made under an Idempotency-Key is made once, however often or concurrently it is asked."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from .conftest import TOKEN


def headers(customer: str, key: str) -> dict[str, str]:
    """Return the gateway's headers for *customer* with an idempotency key."""
    return {"X-Service-Token": TOKEN, "X-Customer-Id": customer, "Idempotency-Key": key}


def hold(flight_id: int, quantity: int = 1) -> dict[str, Any]:
    """Return a hold body for economy seats."""
    return {"items": [{"kind": "flight", "flight_id": str(flight_id), "cabin": "economy",
                       "quantity": quantity}]}


async def test_twenty_concurrent_retries_hold_once(client: Any, make_flight: Any,
                                                   counts: Any) -> None:
    """Twenty copies of one keyed request at once make one hold; all answer it, 201."""
    flight_id = await make_flight(economy=10)
    key = uuid.uuid4().hex
    answers = await asyncio.gather(*(client.post("/internal/holds", json=hold(flight_id, 2),
                                                 headers=headers("alice", key))
                                     for _ in range(20)))
    assert {r.status for r in answers} == {201}
    assert len({(await r.json())["id"] for r in answers}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 19
    assert (await counts(flight_id))["held"] == 2


async def test_a_key_with_other_items_is_refused_and_keys_are_per_traveller(
        client: Any, make_flight: Any, counts: Any) -> None:
    """The same key with another body is 422; another traveller's same key is another hold,
    even when the subjects differ only in case."""
    flight_id = await make_flight(economy=10)
    key = uuid.uuid4().hex
    first = await client.post("/internal/holds", json=hold(flight_id), headers=headers("bob", key))
    assert first.status == 201
    other_body = await client.post("/internal/holds", json=hold(flight_id, 3),
                                   headers=headers("bob", key))
    assert other_body.status == 422
    assert (await other_body.json())["code"] == "idempotency_key_reused"
    other_owner = await client.post("/internal/holds", json=hold(flight_id),
                                    headers=headers("Bob", key))
    assert other_owner.status == 201
    assert (await other_owner.json())["id"] != (await first.json())["id"]
    assert (await other_owner.json())["customer_id"] == "Bob"
    assert (await counts(flight_id))["held"] == 2


async def test_a_sold_out_attempt_leaves_the_key_free(client: Any, make_flight: Any) -> None:
    """A keyed request that held nothing (sold out) can be tried again under the same key."""
    flight_id = await make_flight(economy=1)
    key = uuid.uuid4().hex
    refused = await client.post("/internal/holds", json=hold(flight_id, 2),
                                headers=headers("carol", key))
    assert refused.status == 409
    again = await client.post("/internal/holds", json=hold(flight_id, 2),
                              headers=headers("carol", key))
    assert again.status == 409 and (await again.json())["code"] == "sold_out"
