"""Opaque search cursors: the last row's (departure_utc, id), base64url encoded."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from inventory.errors import InvalidCursor


def encode_cursor(departure_utc: datetime, flight_id: int) -> str:
    """Return the cursor that resumes after (*departure_utc*, *flight_id*)."""
    raw = orjson.dumps([departure_utc.strftime("%Y-%m-%dT%H:%M:%S"), flight_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Return the (departure_utc, id) inside *cursor* or raise `InvalidCursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, flight_id = orjson.loads(raw)
        parsed = datetime.strptime(when, "%Y-%m-%dT%H:%M:%S")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc
    if not isinstance(flight_id, int) or isinstance(flight_id, bool) or flight_id < 0:
        raise InvalidCursor("the cursor is not one this service issued")
    return parsed, flight_id
