"""Parse requests into contract models, and turn what fails into problem errors with codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from multidict import MultiMapping
from pydantic import ValidationError

from itinera.api.types import Contract
from itinera.errors import BadRequest, ItineraError, UnsupportedMediaType, ValidationFailed

M = TypeVar("M", bound=Contract)
MAX_REPORTED = 10
# Discriminator tags that pydantic puts in an error's location; a reader does not need them.
_UNION_TAGS = frozenset({"flight", "hotel"})


def parse_query(model: type[M], query: MultiMapping[str]) -> M:
    """Return *query* as *model*; a repeated or empty parameter is a 400."""
    values: dict[str, str] = {}
    for name in query:
        given = query.getall(name)
        if len(given) > 1:
            raise BadRequest(f"query parameter {name[:40]} is given more than once")
        if given[0] == "":
            raise BadRequest(f"query parameter {name[:40]} is empty")
        values[name] = given[0]
    return parse_object(model, values, where="query parameter")


def parse_object(model: type[M], data: Mapping[str, Any], *, where: str = "field") -> M:
    """Return *data* as *model* or raise the error carrying the failing field's code."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise to_error(exc, model, where=where) from None


def parse_body(model: type[M], raw: bytes, content_type: str | None) -> M:
    """Return a JSON request body as *model*; not JSON by its Content-Type is a 415."""
    require_json(content_type)
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise to_error(exc, model, where="field") from None


def require_json(content_type: str | None) -> None:
    """Raise `UnsupportedMediaType` unless *content_type* names JSON."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType("send the body as application/json")


def to_error(exc: ValidationError, model: type[Contract], *, where: str) -> ItineraError:
    """Return the one error that answers *exc*: 400 if malformed, else the field's 422 code."""
    errors = exc.errors(include_url=False, include_input=False)
    details = [{"field": field_name(e["loc"]), "message": e["msg"]} for e in errors]
    extra = {"errors": details[:MAX_REPORTED]}
    unknown = [field_name(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        return BadRequest(f"unknown {where}s: {', '.join(unknown[:MAX_REPORTED])}", **extra)
    for e in errors:
        named = _coded(e["type"])
        if named is not None:
            return named(e["msg"], **extra)
    first = errors[0]
    name = field_name(first["loc"])
    if first["type"] == "json_invalid":
        return BadRequest(f"the body is not valid JSON: {first['msg']}", **extra)
    if first["type"] == "missing":
        return BadRequest(f"{where} {name} is required", **extra)
    if first["type"].endswith(("_type", "_parsing")) or first["type"] == "union_tag_not_found":
        cls = model.codes.get(str(first["loc"][0])) if first["loc"] else None
        if first["type"] == "union_tag_not_found" and cls is not None:
            return cls(f"{name}: {first['msg']}", **extra)
        return BadRequest(f"{where} {name}: {first['msg']}", **extra)
    top = str(first["loc"][0]) if first["loc"] else ""
    return model.codes.get(top, ValidationFailed)(f"{name}: {first['msg']}", **extra)


def field_name(loc: Iterable[str | int]) -> str:
    """Return a pydantic error location as `items[0].quantity`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in _UNION_TAGS:
            out += f".{part}" if out else part
    return out or "body"


def _coded(error_type: str) -> type[ItineraError] | None:
    """Return the error class whose code a model validator raised, if any."""
    return _BY_CODE.get(error_type)


def _all_codes() -> dict[str, type[ItineraError]]:
    from itinera.api import errors  # the contract's own codes register themselves here

    out: dict[str, type[ItineraError]] = {}
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, ItineraError):
            out[value.code] = value
    out[ValidationFailed.code] = ValidationFailed
    return out


_BY_CODE = _all_codes()
