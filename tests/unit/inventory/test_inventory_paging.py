"""Opaque search cursors."""

from __future__ import annotations

from datetime import datetime

import pytest

from inventory.errors import InvalidCursor
from inventory.paging import decode_cursor, encode_cursor


def test_cursor_round_trips() -> None:
    """Decoding an encoded cursor gives back the departure time and id."""
    when = datetime(2030, 5, 17, 6, 45)
    assert decode_cursor(encode_cursor(when, 1234)) == (when, 1234)


def test_cursor_is_url_safe() -> None:
    """A cursor needs no escaping in a query string."""
    cursor = encode_cursor(datetime(2030, 1, 1), 2**62)
    assert cursor.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize("bad", [
    "", "!!!",
    "bm90IGpzb24",  # "not json"
    "WyJ4IiwxXQ",  # ["x",1]
    "WyIyMDMwLTAxLTAxVDAwOjAwOjAwIiwtMV0",  # ["2030-01-01T00:00:00",-1]
])
def test_malformed_cursor_is_rejected(bad: str) -> None:
    """Anything this service did not issue is a 400 invalid_cursor."""
    with pytest.raises(InvalidCursor):
        decode_cursor(bad)
