"""Opaque keyset cursors."""

from __future__ import annotations

from datetime import datetime

import pytest

from inventory.paging import decode_cursor, encode_cursor
from itinera.api.errors import InvalidCursor


def test_cursor_round_trips() -> None:
    """Decoding an encoded cursor gives back the departure time and id."""
    when = datetime(2030, 5, 17, 6, 45)
    assert decode_cursor(encode_cursor(when, 1234)) == (when, 1234)


@pytest.mark.parametrize("sort", ["price", "duration"])
def test_integer_sort_keys_round_trip(sort: str) -> None:
    """Price and duration cursors carry an integer key and decode only for their own sort."""
    cursor = encode_cursor(12_999, 42, sort)
    assert decode_cursor(cursor, sort) == (12_999, 42)
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, "departure")


def test_cursor_of_another_sort_is_rejected() -> None:
    """A departure cursor replayed with sort=price is a 400, not a silently wrong page."""
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor(datetime(2030, 1, 1), 1), "price")


def test_cursor_is_url_safe() -> None:
    """A cursor needs no escaping in a query string."""
    cursor = encode_cursor(datetime(2030, 1, 1), 2**62)
    assert cursor.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize("bad", [
    "", "!!!",
    "bm90IGpzb24",  # "not json"
    "WyJ4IiwxXQ",  # ["x",1]
    "WyIyMDMwLTAxLTAxVDAwOjAwOjAwIiwtMV0",  # ["2030-01-01T00:00:00",-1]
    "WyJkZXBhcnR1cmUiLCIyMDMwLTAxLTAxVDAwOjAwOjAwIiwtMV0",  # ["departure","2030-...",-1]
])
def test_malformed_cursor_is_rejected(bad: str) -> None:
    """Anything this service did not issue is a 422 invalid_cursor."""
    with pytest.raises(InvalidCursor):
        decode_cursor(bad)
