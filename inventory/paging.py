"""Opaque keyset cursors: the sort's name, the last row's sort key and its id, base64url encoded."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from itinera.api.errors import InvalidCursor

SortKey = datetime | int
_WHEN = "%Y-%m-%dT%H:%M:%S"


def encode_cursor(key: SortKey, row_id: int, sort: str = "departure") -> str:
    """Return the cursor that resumes after (*key*, *row_id*) in the order *sort*."""
    raw_key: str | int = key.strftime(_WHEN) if isinstance(key, datetime) else key
    raw = orjson.dumps([sort, raw_key, row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str = "departure") -> tuple[SortKey, int]:
    """Return the (key, id) inside *cursor*, or raise `InvalidCursor` if it is not for *sort*."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        issued_for, raw_key, row_id = orjson.loads(raw)
        key: SortKey
        if isinstance(raw_key, str):
            key = datetime.strptime(raw_key, _WHEN)
        elif isinstance(raw_key, int) and not isinstance(raw_key, bool):
            key = raw_key
        else:
            raise TypeError("bad key")
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc
    if issued_for != sort or isinstance(key, datetime) != (sort == "departure"):
        raise InvalidCursor(f"the cursor was not issued for sort={sort}")
    if not isinstance(row_id, int) or isinstance(row_id, bool) or row_id < 0:
        raise InvalidCursor("the cursor is not one this service issued")
    return key, row_id
