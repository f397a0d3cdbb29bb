"""Holds made once per Idempotency-Key: a retry finds the hold its first attempt made."""

from __future__ import annotations

import hashlib
from typing import Any

import pymysql

from inventory.db import fetch_all
from inventory.holds import HoldRepository, Once
from itinera.api.holds import HoldRequest
from itinera.errors import IdempotencyKeyReused

DUPLICATE_KEY = 1062


def once_for(customer_id: str, key: str, request: HoldRequest) -> Once:
    """Return how a hold request under *key* is stored: digests, never the key itself."""
    owner = hashlib.sha256(f"{customer_id}\n{key}".encode()).hexdigest()
    body = hashlib.sha256(request.model_dump_json().encode()).hexdigest()
    return Once(owner_key=owner, request_hash=body)


async def create_once(holds: HoldRepository, customer_id: str, request: HoldRequest,
                      key: str) -> tuple[dict[str, Any], bool]:
    """Return the hold made under *key* and whether it was made before (a replay)."""
    once = once_for(customer_id, key, request)
    found = await _find(holds, customer_id, once)
    if found is not None:
        return found, True
    try:
        return await holds.create(customer_id, request.items, once=once), False
    except pymysql.err.IntegrityError as exc:
        if exc.args[0] != DUPLICATE_KEY:
            raise
    # A concurrent twin with the same key committed first; its hold is the answer.
    found = await _find(holds, customer_id, once)
    assert found is not None, "a duplicate key names a hold that exists"
    return found, True


async def _find(holds: HoldRepository, customer_id: str, once: Once) -> dict[str, Any] | None:
    rows = await fetch_all(holds.pool, "SELECT id, request_hash FROM holds WHERE owner_key = %s",
                           (once.owner_key,))
    if not rows:
        return None
    if rows[0]["request_hash"] != once.request_hash:
        raise IdempotencyKeyReused("this Idempotency-Key was used for another hold request")
    return await holds.get(rows[0]["id"], customer_id)
