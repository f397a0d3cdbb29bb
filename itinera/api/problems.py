"""What every error and health answer looks like."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from itinera.api.types import Contract


class FieldError(Contract):
    """One invalid field of a request."""

    field: str
    message: str


class Problem(Contract):
    """An RFC 9457 problem; programs branch on `code`, people read `detail`."""

    # Some problems name what they are about (the sold-out flight, the airport).
    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    title: str
    status: int
    code: str = Field(description="stable, snake_case; programs branch on it")
    detail: str
    instance: str | None = None
    request_id: str | None = Field(default=None, description="the X-Request-Id of the request")
    errors: list[FieldError] | None = Field(default=None,
                                            description="every invalid field, at most 10")
    limit: str | None = Field(default=None, description=(
        "on a 429, the limit reached (docs/operations.md, Abuse limits): search, "
        "search-address, holds, item-holds, active-holds, held-units, flight-seats, "
        "hotel-rooms, booking-attempts, card-attempts, declines, card-declines"))
    retry_after: int | None = Field(default=None,
                                    description="seconds to wait, as the Retry-After header")


class Health(Contract):
    """Liveness or readiness, with each dependency's check on readiness."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: str
    checks: dict[str, str] | None = None
