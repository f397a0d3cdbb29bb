"""Reading a hold's row and items, in the shape the internal API answers with."""

from __future__ import annotations

from typing import Any

from inventory.catalog import iso_utc
from inventory.db import Cursor
from itinera.errors import NotFound

# A hold past its expiry reads as expired at once, before the sweeper gets to it.
STATUS_SQL = ("CASE WHEN status = 'active' AND expires_at <= UTC_TIMESTAMP(6)"
              " THEN 'expired' ELSE status END")


async def read_hold(cur: Cursor, hold_id: str) -> dict[str, Any]:
    """Return the hold as the API shows it; past its expiry an active hold reads as expired."""
    await cur.execute(f"SELECT id, customer_id, {STATUS_SQL} AS status, booking_id,"  # noqa: S608 - constant fragment
                      " total_amount, currency, created_at, expires_at FROM holds WHERE id = %s",
                      (hold_id,))
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"hold {hold_id} does not exist")
    await cur.execute("SELECT i.kind, i.flight_id, i.cabin, i.hotel_id, rt.code AS room_type,"
                      " i.check_in, i.check_out, i.quantity, i.unit_amount, i.currency"
                      " FROM hold_items i LEFT JOIN room_types rt ON rt.id = i.room_type_id"
                      " WHERE i.hold_id = %s ORDER BY i.item_no", (hold_id,))
    return hold_view(row, await cur.fetchall())


def hold_view(row: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a hold's row and its item rows as the API shows them."""
    return {"id": row["id"], "customer_id": row["customer_id"], "status": row["status"],
            "items": [_item_json(i) for i in items],
            "total": {"amount": row["total_amount"], "currency": row["currency"]},
            "expires_at": iso_utc(row["expires_at"]), "created_at": iso_utc(row["created_at"]),
            "booking_id": row["booking_id"]}


def _item_json(i: dict[str, Any]) -> dict[str, Any]:
    unit = {"amount": i["unit_amount"], "currency": i["currency"]}
    if i["kind"] == "flight":
        return {"kind": "flight", "flight_id": str(i["flight_id"]), "cabin": i["cabin"],
                "quantity": i["quantity"], "unit_price": unit}
    return {"kind": "hotel", "hotel_id": str(i["hotel_id"]), "room_type": i["room_type"],
            "check_in": i["check_in"].isoformat(), "check_out": i["check_out"].isoformat(),
            "rooms": i["quantity"], "unit_price": unit}
