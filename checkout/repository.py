"""Bookings in DynamoDB: creation, reads, and conditional status transitions."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import TypeAdapter

from checkout.model import TERMINAL, TRANSITIONS, Booking
from itinera.api.holds import HeldItem
from itinera.dynamo import Lease, conditionally

# Sparse index: only bookings still in flight carry this attribute, so the reconciler reads
# exactly those, oldest first, without scanning the table.
OPEN_INDEX, OPEN_SHARD = "by_open", "open"
# Stored as the contract's JSON (ids as strings), the shape inventory answered with.
ITEMS = TypeAdapter(list[HeldItem])
# Map of event type -> when a delivery claimed the right to publish it (a Lease per entry).
PUBLISH_CLAIMS = "publish_claims"

_STRING_FIELDS = ("booking_id", "customer_id", "hold_id", "status", "currency", "contact_email",
                  "contact_name", "payment_method", "created_at", "updated_at", "payment_id",
                  "failure_reason")


class TransitionRefused(Exception):
    """The booking was not in a status the transition may start from."""


def to_item(booking: Booking) -> dict[str, Any]:
    """Return *booking* as a DynamoDB item."""
    item: dict[str, Any] = {f: {"S": getattr(booking, f)} for f in _STRING_FIELDS
                            if getattr(booking, f) is not None}
    item["amount"] = {"N": str(booking.amount)}
    item["items"] = {"S": ITEMS.dump_json(booking.items).decode()}
    if booking.published:
        item["published"] = {"SS": sorted(booking.published)}
    item[PUBLISH_CLAIMS] = {"M": {}}  # claim_publish sets paths inside it
    if booking.status not in TERMINAL:
        item["open_shard"] = {"S": OPEN_SHARD}
    return item


def from_item(item: dict[str, Any]) -> Booking:
    """Return the booking stored in *item*."""
    strings = {f: item[f]["S"] for f in _STRING_FIELDS if f in item}
    return Booking(**strings, amount=int(item["amount"]["N"]),
                   items=ITEMS.validate_json(item["items"]["S"]),
                   published=frozenset(item.get("published", {}).get("SS", [])))


class BookingRepository:
    """Read and write bookings; every status change is conditional on the current status."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self.db = dynamodb
        self.table = table

    async def create(self, booking: Booking) -> bool:
        """Store a new booking; return False if one with that id exists already."""
        return await conditionally(self.db.put_item(
            TableName=self.table, Item=to_item(booking),
            ConditionExpression="attribute_not_exists(booking_id)")) is not None

    async def get(self, booking_id: str) -> Booking | None:
        """Return the booking or None."""
        answer = await self.db.get_item(TableName=self.table, ConsistentRead=True,
                                        Key={"booking_id": {"S": booking_id}})
        return from_item(answer["Item"]) if "Item" in answer else None

    async def list_for_customer(self, customer_id: str, *, limit: int,
                                cursor: str | None) -> tuple[list[Booking], str | None]:
        """Return one page of the customer's bookings, newest first, and the next cursor."""
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": "by_customer", "Limit": limit,
            "KeyConditionExpression": "customer_id = :c", "ScanIndexForward": False,
            "ExpressionAttributeValues": {":c": {"S": customer_id}},
        }
        if cursor:
            start = json.loads(base64.urlsafe_b64decode(cursor.encode()))
            if start.get("customer_id", {}).get("S") != customer_id:
                raise ValueError("cursor belongs to another listing")
            kwargs["ExclusiveStartKey"] = start
        answer = await self.db.query(**kwargs)
        last = answer.get("LastEvaluatedKey")
        next_cursor = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
        return [from_item(i) for i in answer["Items"]], next_cursor

    async def transition(self, booking_id: str, target: str, *, now: str,
                         claim: tuple[str, int] | None = None, **fields: str) -> Booking:
        """Move the booking to *target* if its status allows it, setting *fields* too.

        With *claim* (event type, time), the move also claims the right to publish that
        event, as `claim_publish` would.
        """
        sources = sorted(TRANSITIONS[target])
        names = {"#s": "status", "#u": "updated_at"}
        values: dict[str, Any] = {":target": {"S": target}, ":now": {"S": now}}
        sets = ["#s = :target", "#u = :now"]
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = {"S": value}
            sets.append(f"#f{i} = :f{i}")
        if claim is not None:
            names.update({"#c": PUBLISH_CLAIMS, "#e": claim[0]})
            values[":claimed"] = {"N": str(claim[1])}
            sets.append("#c.#e = :claimed")
        for i, source in enumerate(sources):
            values[f":from{i}"] = {"S": source}
        condition = "#s IN (" + ", ".join(f":from{i}" for i in range(len(sources))) + ")"
        if target in TERMINAL:
            update = "SET " + ", ".join(sets) + " REMOVE open_shard"
        else:
            values[":open"] = {"S": OPEN_SHARD}
            update = "SET " + ", ".join([*sets, "open_shard = :open"])
        answer = await conditionally(self.db.update_item(
            TableName=self.table, Key={"booking_id": {"S": booking_id}},
            UpdateExpression=update, ConditionExpression=condition,
            ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW"))
        if answer is None:
            raise TransitionRefused(f"{booking_id} cannot move to {target}")
        return from_item(answer["Attributes"])

    async def open_since(self, cutoff: str, *, limit: int = 100) -> list[str]:
        """Return ids of bookings still in flight whose last change is older than *cutoff*."""
        ids: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table, "IndexName": OPEN_INDEX,
            "KeyConditionExpression": "open_shard = :open AND updated_at < :cutoff",
            "ExpressionAttributeValues": {":open": {"S": OPEN_SHARD}, ":cutoff": {"S": cutoff}},
        }
        while len(ids) < limit:
            page = await self.db.query(**kwargs, Limit=limit - len(ids))
            ids += [i["booking_id"]["S"] for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return ids

    async def claim_publish(self, booking_id: str, event_type: str, *, now: int,
                            stale_after: int) -> bool:
        """Claim the right to publish *event_type*; a claim older than *stale_after* s lapses."""
        lease = Lease(db=self.db, table=self.table, key={"booking_id": {"S": booking_id}},
                      seconds=stale_after, stamp=(PUBLISH_CLAIMS, event_type))
        return await lease.claim(now=now)

    async def mark_published(self, booking_id: str, event_type: str) -> None:
        """Remember that *event_type* went out for the booking."""
        await self.db.update_item(
            TableName=self.table, Key={"booking_id": {"S": booking_id}},
            UpdateExpression="ADD published :e",
            ExpressionAttributeValues={":e": {"SS": [event_type]}})
