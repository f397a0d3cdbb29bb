"""Idempotency records: the same key and body get the first answer, another body a 422."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from itinera.dynamo import Lease
from itinera.errors import IdempotencyInProgress, IdempotencyKeyReused

RECORD_TTL_SECONDS = 24 * 3600
# A request that died mid-way frees its key after this long, so the client can retry.
IN_PROGRESS_SECONDS = 30


def payload_hash(body: Any) -> str:
    """Hash a JSON body independent of key order and white space."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    """The answer recorded under a key."""

    status: int
    body: dict[str, Any]


class IdempotencyStore:
    """Records keyed by principal and key, in DynamoDB, with conditional writes."""

    def __init__(self, dynamodb: Any, table: str, *, wait_seconds: float = 5.0) -> None:
        self.db = dynamodb
        self.table = table
        self.wait_seconds = wait_seconds

    async def begin(self, principal: str, key: str, body_hash: str) -> StoredResponse | None:
        """Claim the key; return the stored answer if this request was already answered."""
        record_id = f"{principal}#{key}"
        deadline = time.monotonic() + self.wait_seconds
        while True:
            now = int(time.time())
            if await self._key_lease(record_id).claim(
                    now=now, fields={"payload_hash": {"S": body_hash}, **_expiration(now)}):
                return None
            answer = await self.db.get_item(TableName=self.table, ConsistentRead=True,
                                            Key={"id": {"S": record_id}})
            item = answer.get("Item")
            if item is None:
                continue  # deleted after a failure between our two calls: claim it again
            if item["payload_hash"]["S"] != body_hash:
                raise IdempotencyKeyReused("this Idempotency-Key was used with another body")
            if item["state"]["S"] == "completed":
                return StoredResponse(status=int(item["status"]["N"]),
                                      body=json.loads(item["response"]["S"]))
            if time.monotonic() > deadline:
                raise IdempotencyInProgress("a request with this Idempotency-Key is running")
            await asyncio.sleep(0.05)

    async def complete(self, principal: str, key: str, response: StoredResponse) -> None:
        """Record the answer so repeats get it."""
        await self.db.update_item(
            TableName=self.table, Key={"id": {"S": f"{principal}#{key}"}},
            UpdateExpression="SET #st = :done, #status = :code, #resp = :body",
            ExpressionAttributeNames={"#st": "state", "#status": "status", "#resp": "response"},
            ExpressionAttributeValues={":done": {"S": "completed"},
                                       ":code": {"N": str(response.status)},
                                       ":body": {"S": json.dumps(response.body)}})

    async def abandon(self, principal: str, key: str) -> None:
        """Free the key after a failure, so the client may retry it."""
        await self._key_lease(f"{principal}#{key}").release()

    def _key_lease(self, record_id: str) -> Lease:
        # The record is claimed while in progress; once completed it holds the answer for good.
        return Lease(db=self.db, table=self.table, key={"id": {"S": record_id}},
                     seconds=IN_PROGRESS_SECONDS, stamp=("in_progress_expiry",), expires=True,
                     busy=("state", "in_progress"))

    def _hold_lease(self, hold_id: str) -> Lease:
        return Lease(db=self.db, table=self.table, key={"id": {"S": f"hold#{hold_id}"}},
                     seconds=IN_PROGRESS_SECONDS, owner="booking_id")

    async def claim_hold(self, hold_id: str, booking_id: str) -> str:
        """Tie the hold to *booking_id* unless another booking has it; return the holder."""
        lease, now = self._hold_lease(hold_id), int(time.time())
        if await lease.claim(holder=booking_id, fields=_expiration(now), now=now):
            return booking_id
        return await lease.holder() or booking_id

    async def take_over_hold(self, hold_id: str, stale_holder: str, booking_id: str) -> bool:
        """Move the hold from a holder that never wrote its booking (it crashed) to us."""
        now = int(time.time())
        return await self._hold_lease(hold_id).take_over_if_stale(
            stale_holder, holder=booking_id, fields=_expiration(now), now=now)


def _expiration(now: int) -> dict[str, Any]:
    """Return the TTL attribute of a record written at *now*."""
    return {"expiration": {"N": str(now + RECORD_TTL_SECONDS)}}
