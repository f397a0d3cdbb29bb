"""`itinera check`: verify DESIGN.md's invariants against a running system."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiomysql


@dataclass(frozen=True)
class Violation:
    """One broken invariant, numbered as in DESIGN.md."""

    invariant: int
    detail: str


@dataclass(frozen=True, kw_only=True)
class Tables:
    """The DynamoDB tables the check reads."""

    bookings: str
    payments: str
    notifications: str


async def _scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = await dynamodb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _s(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if value else None


async def _rows(pool: aiomysql.Pool, sql: str, args: tuple[Any, ...] = ()
                ) -> list[dict[str, Any]]:
    async with pool.acquire() as conn, conn.cursor(aiomysql.DictCursor) as cur:
        await cur.execute(sql, args)
        return list(await cur.fetchall())


async def check(*, pool: aiomysql.Pool, dynamodb: Any, tables: Tables,
                grace: timedelta = timedelta(minutes=2)) -> list[Violation]:
    """Return every violation found; in-flight work younger than *grace* is not judged."""
    now = datetime.now(UTC)
    settled_before = (now - grace).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    violations: list[Violation] = []

    # 1. capacity = available + held + sold, none negative.
    for row in await _rows(pool, "SELECT flight_id, cabin, capacity, available, held, sold "
                                 "FROM flight_cabins WHERE capacity <> available + held + sold "
                                 "OR available < 0 OR held < 0 OR sold < 0"):
        violations.append(Violation(1, f"flight {row['flight_id']} {row['cabin']}: {row}"))

    # 2. sold seats = seats of confirmed bookings (through the holds they confirmed).
    sold = await _rows(pool, "SELECT flight_id, cabin, sold FROM flight_cabins WHERE sold > 0")
    confirmed_holds = await _rows(pool, "SELECT h.id, h.booking_id, i.flight_id, i.cabin, "
                                        "i.quantity FROM holds h JOIN hold_items i "
                                        "ON i.hold_id = h.id WHERE h.status = 'confirmed' "
                                        "AND i.kind = 'flight'")
    by_cabin: Counter[tuple[int, str]] = Counter()
    for row in confirmed_holds:
        by_cabin[(int(row["flight_id"]), row["cabin"])] += int(row["quantity"])
    for row in sold:
        key = (int(row["flight_id"]), row["cabin"])
        if by_cabin.pop(key, 0) != int(row["sold"]):
            violations.append(Violation(2, f"flight {key}: sold {row['sold']} but confirmed "
                                           f"holds say otherwise"))
    for key, quantity in by_cabin.items():
        violations.append(Violation(2, f"flight {key}: confirmed holds {quantity}, sold 0"))

    bookings = await _scan(dynamodb, tables.bookings)
    by_id = {_s(b, "booking_id"): b for b in bookings}
    held_for = {row["booking_id"] for row in confirmed_holds}
    for booking in bookings:
        status, booking_id = _s(booking, "status"), _s(booking, "booking_id")
        settled = (_s(booking, "updated_at") or "") < settled_before
        if status == "confirmed" and booking_id not in held_for and settled:
            violations.append(Violation(2, f"booking {booking_id} confirmed without a "
                                           f"confirmed hold"))
        # 3. every accepted checkout reaches a terminal status.
        if status in ("pending", "cancelling") and settled:
            violations.append(Violation(3, f"booking {booking_id} still {status}"))
    for booking_id in held_for - set(by_id):
        violations.append(Violation(2, f"hold confirmed for unknown booking {booking_id}"))

    # 4. at most one capture per booking, each for a confirmed booking or refunded.
    charges = [c for c in await _scan(dynamodb, tables.payments) if _s(c, "kind") == "charge"]
    per_booking = Counter(_s(c, "idempotency_key") for c in charges
                          if _s(c, "status") in ("captured", "refunded"))
    for booking_id, count in per_booking.items():
        if count > 1:
            violations.append(Violation(4, f"booking {booking_id} captured {count} times"))
    for charge in charges:
        owner = by_id.get(_s(charge, "idempotency_key"))
        owner_status = _s(owner, "status") if owner else None
        if _s(charge, "status") == "captured" and owner_status not in ("confirmed",
                                                                       "cancelling", "pending"):
            violations.append(Violation(4, f"capture {_s(charge, 'payment_id')} belongs to a "
                                           f"{owner_status or 'missing'} booking, not refunded"))

    # 5. one confirmation per confirmed booking.
    sent = {_s(n, "notification_id") for n in await _scan(dynamodb, tables.notifications)
            if _s(n, "state") == "sent"}
    for booking in bookings:
        booking_id = _s(booking, "booking_id")
        if _s(booking, "status") == "confirmed" and \
                (_s(booking, "updated_at") or "") < settled_before and \
                f"{booking_id}:booking.confirmed" not in sent:
            violations.append(Violation(5, f"booking {booking_id} confirmed, no e-mail sent"))

    # 6. expired holds gave their seats back (the sweeper runs every few seconds).
    for row in await _rows(pool, "SELECT id FROM holds WHERE status = 'active' AND expires_at "
                                 "< UTC_TIMESTAMP() - INTERVAL %s SECOND",
                           (int(grace.total_seconds()),)):
        violations.append(Violation(6, f"hold {row['id']} expired but still active"))
    return violations


def report(violations: list[Violation]) -> str:
    """Return a human summary of the check."""
    if not violations:
        return "all invariants hold"
    return "\n".join(f"invariant {v.invariant}: {v.detail}" for v in violations)


def as_json(violations: list[Violation]) -> str:
    """Return the violations as JSON for scripts."""
    return json.dumps([{"invariant": v.invariant, "detail": v.detail} for v in violations])
