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


class Health(Contract):
    """Liveness or readiness, with each dependency's check on readiness."""

    model_config = ConfigDict(extra="allow", frozen=True)

    status: str
    checks: dict[str, str] | None = None
