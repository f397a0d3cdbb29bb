"""Moving counts between available, held and sold, for flight cabins and hotel room nights."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory.db import Cursor
from itinera.api.types import CABINS

COUNTS = ("available", "held", "sold")
KINDS = ("flight", "hotel")  # enum order of hold_items.kind: flights are locked first


@dataclass(frozen=True)
class StockLine:
    """The rows one hold item moves: a cabin, or a room type's nights [check_in, check_out)."""

    kind: str
    quantity: int
    flight_id: int | None = None
    cabin: str | None = None
    room_type_id: int | None = None
    check_in: date | None = None
    check_out: date | None = None

    @property
    def lock_key(self) -> tuple[int, int, int, date]:
        """Return the global lock order: cabins by (flight, cabin), then nights by (type, date)."""
        if self.kind == "flight":
            assert self.flight_id is not None and self.cabin is not None
            return (0, self.flight_id, CABINS.index(self.cabin), date.min)
        assert self.room_type_id is not None and self.check_in is not None
        return (1, self.room_type_id, 0, self.check_in)

    @property
    def rows(self) -> int:
        """Return how many inventory rows the line spans."""
        if self.kind == "flight":
            return 1
        assert self.check_in is not None and self.check_out is not None
        return (self.check_out - self.check_in).days

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StockLine:
        """Build the line of a `hold_items` row."""
        return cls(row["kind"], row["quantity"], row["flight_id"], row["cabin"],
                   row["room_type_id"], row["check_in"], row["check_out"])


# Selecting items in this order locks their rows in the same global order as creating a hold.
ITEMS_IN_LOCK_ORDER = ("SELECT kind, quantity, flight_id, cabin, room_type_id, check_in, check_out"
                       " FROM hold_items WHERE hold_id = %s"
                       " ORDER BY kind, flight_id, cabin, room_type_id, check_in")


async def move(cur: Cursor, line: StockLine, source: str, target: str) -> bool:
    """Move *line*'s quantity from count *source* to *target* on every row, or report False.

    One conditional UPDATE per line; the caller rolls back when it returns False, so a line
    is moved on all its rows (every night of a stay) or on none.
    """
    if source not in COUNTS or target not in COUNTS or source == target:
        raise ValueError(f"cannot move {source} to {target}")
    q = line.quantity
    change = f"{source} = {source} - %s, {target} = {target} + %s"
    if line.kind == "flight":
        await cur.execute(f"UPDATE flight_cabins SET {change}"  # noqa: S608 - names checked above
                          f" WHERE flight_id = %s AND cabin = %s AND {source} >= %s",
                          (q, q, line.flight_id, line.cabin, q))
    else:
        # A range over the primary key locks the nights in date order, as the lock order wants.
        await cur.execute(f"UPDATE room_nights SET {change}"  # noqa: S608 - names checked above
                          f" WHERE room_type_id = %s AND night >= %s AND night < %s"
                          f" AND {source} >= %s",
                          (q, q, line.room_type_id, line.check_in, line.check_out, q))
    return int(cur.rowcount) == line.rows
