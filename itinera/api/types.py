"""Field types of the contract: ids, codes, dates and integers, each with its one pattern."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from itinera.errors import ItineraError

CABINS = ("economy", "business")
Cabin = Literal["economy", "business"]
MAX_ID = 2**63 - 1

# Patterns without anchors, so aiohttp routes and JSON schemas use the same text.
CATALOG_ID = "[1-9][0-9]{0,18}"
HEX_ID = "[0-9a-f]{32}"
ROOM_CODE = "[a-z0-9_]{1,32}"
CURSOR = "[A-Za-z0-9_-]{1,512}"
IDEMPOTENCY_KEY = "[A-Za-z0-9_.:-]{8,128}"


def anchored(pattern: str) -> str:
    """Return *pattern* matching whole strings only."""
    return f"^{pattern}$"


class Contract(BaseModel):
    """A request or response shape: unknown fields refused, values immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Field (or body part) name -> the error carrying that field's stable code.
    codes: ClassVar[dict[str, type[ItineraError]]] = {}


def _catalog_id(raw: Any) -> int:
    if not isinstance(raw, str) or not re.fullmatch(CATALOG_ID, raw) or int(raw) > MAX_ID:
        raise PydanticCustomError("id_parsing", "an id is a string of 1 to 19 digits")
    return int(raw)


def _iso_date(raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
        raise PydanticCustomError("date_parsing", "a date is YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise PydanticCustomError("date_parsing", "a date is YYYY-MM-DD") from exc


def _clock(raw: Any) -> time:
    if isinstance(raw, time):
        return raw
    if not isinstance(raw, str) or not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", raw):
        raise PydanticCustomError("time_parsing", "a time of day is HH:MM (24-hour)")
    return time(int(raw[:2]), int(raw[3:]))


def _json_int(raw: Any) -> Any:
    # JSON Schema's integer includes 1.0 (and 1e0); booleans and strings are not numbers.
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise PydanticCustomError("int_type", "an integer is required")
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return raw


def _query_int(raw: Any) -> Any:
    # Query values arrive as text; only plain decimal digits count as a number.
    if isinstance(raw, str) and not re.fullmatch(r"-?[0-9]{1,10}", raw):
        raise PydanticCustomError("int_parsing", "not an integer")
    return raw


# A catalog id (flight, hotel): digits as a string in JSON, an int in Python.
CatalogId = Annotated[int, BeforeValidator(_catalog_id), PlainSerializer(str, return_type=str),
                      WithJsonSchema({"type": "string", "pattern": anchored(CATALOG_ID)})]
HexId = Annotated[str, StringConstraints(pattern=anchored(HEX_ID))]
IsoDate = Annotated[date, BeforeValidator(_iso_date),
                    WithJsonSchema({"type": "string", "format": "date"})]
ClockTime = Annotated[time, BeforeValidator(_clock),
                      PlainSerializer(lambda t: t.strftime("%H:%M"), return_type=str),
                      WithJsonSchema({"type": "string",
                                      "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"})]
# IATA airport codes: any case in, upper case out.
Iata = Annotated[str, StringConstraints(pattern="^[A-Za-z]{3}$", to_upper=True)]
RoomCode = Annotated[str, StringConstraints(pattern=anchored(ROOM_CODE))]
Cursor = Annotated[str, StringConstraints(pattern=anchored(CURSOR))]
Currency = Annotated[str, StringConstraints(pattern="^[A-Z]{3}$")]
Timestamp = Annotated[str, Field(description="ISO 8601, UTC")]


def query_int(low: int, high: int) -> Any:
    """Return an integer type for query parameters, bounded to [low, high]."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_query_int)]


# For aliases that mypy must see as types: Annotated[int, Field(...), JSON_INT].
JSON_INT = BeforeValidator(_json_int)


def json_int(low: int, high: int) -> Any:
    """Return a JSON integer type bounded to [low, high]; booleans and strings are refused."""
    return Annotated[int, Field(strict=True, ge=low, le=high), JSON_INT]


def count(high: int = 9) -> Any:
    """Return a JSON integer type from 1 to *high*."""
    return json_int(1, high)


class Money(Contract):
    """An amount in minor units (cents) with its ISO 4217 currency; never a float."""

    amount: json_int(0, 10**12 - 1)  # type: ignore[valid-type]
    currency: Currency
