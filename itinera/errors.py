"""The one error hierarchy: domain errors carry a stable code and an HTTP status."""

from __future__ import annotations

from typing import Any

from itinera.logs import request_id_var


class ItineraError(Exception):
    """Base of every error that should reach a client as problem+json."""

    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra

    @classmethod
    def answered(cls, status: int, code: str, title: str, detail: str | None = None
                 ) -> ItineraError:
        """Return an error with a status and code no subclass names (from HTTP or upstream)."""
        err = cls(detail)
        err.status, err.code, err.title = status, code, title
        return err

    def headers(self) -> dict[str, str]:
        """Return the response headers this error's answer carries besides its body."""
        if "retry_after" in self.extra:
            return {"Retry-After": str(self.extra["retry_after"])}
        return {}

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """Return the RFC 9457 problem document for this error."""
        body: dict[str, Any] = {
            "type": f"https://itinera.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        request_id = request_id_var.get()
        if request_id:
            body["request_id"] = request_id
        body.update(self.extra)
        return body


class BadRequest(ItineraError):
    status, code, title = 400, "bad_request", "Bad request"


class ValidationFailed(ItineraError):
    status, code, title = 422, "validation_failed", "Validation failed"


class Unauthorized(ItineraError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(ItineraError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(ItineraError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(ItineraError):
    status, code, title = 409, "conflict", "Conflict"


class SoldOut(Conflict):
    code, title = "sold_out", "Not enough seats or rooms left"


class HoldNotActive(Conflict):
    code, title = "hold_not_active", "The hold is no longer active"


class HoldInCheckout(Conflict):
    code, title = "hold_in_checkout", "A booking is paying for this hold"


class IdempotencyKeyReused(ItineraError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency key reused with another body"


class IdempotencyInProgress(Conflict):
    code, title = "idempotency_in_progress", "A request with this key is still in progress"


class PayloadTooLarge(ItineraError):
    status, code, title = 413, "payload_too_large", "Request body too large"


class UnsupportedMediaType(ItineraError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class UnsupportedContentEncoding(UnsupportedMediaType):
    code, title = "unsupported_content_encoding", "Unsupported Content-Encoding"

    def __init__(self, detail: str | None = None, *, accept_encoding: str = "", **extra: Any
                 ) -> None:
        super().__init__(detail, **extra)
        self.accept_encoding = accept_encoding

    def headers(self) -> dict[str, str]:
        """Return Accept-Encoding too: the codings a body may come in (RFC 9110, 15.5.16)."""
        if not self.accept_encoding:  # rebuilt from another service's problem
            return super().headers()
        return {**super().headers(), "Accept-Encoding": self.accept_encoding}


class InvalidContentEncoding(BadRequest):
    code, title = "invalid_content_encoding", "The body does not decode as its Content-Encoding"


class RequestTimeout(ItineraError):
    status, code, title = 408, "request_timeout", "The request took too long to arrive"


class RateLimited(ItineraError):
    status, code, title = 429, "rate_limited", "Too many requests"


class LimitExceeded(ItineraError):
    """A traveller, card or address reached one of the abuse limits (itinera/limits)."""

    status, code, title = 429, "limit_exceeded", "Limit reached"

    @classmethod
    def of(cls, code: str, limit: str, detail: str, *, retry_after: int) -> LimitExceeded:
        """Return the refusal of policy *limit*, with its stable *code* and Retry-After."""
        err = cls(detail, limit=limit, retry_after=max(1, retry_after))
        err.code = code
        return err


class DependencyUnavailable(ItineraError):
    status, code, title = 503, "dependency_unavailable", "A dependency is unavailable"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        # A client may try again soon; the dependency is retried or failed over meanwhile.
        extra.setdefault("retry_after", 1)
        super().__init__(detail, **extra)


def error_for_problem(status: int, body: dict[str, Any]) -> ItineraError:
    """Rebuild a domain error from a problem document another service sent."""
    code = str(body.get("code", ""))
    detail = str(body.get("detail", "")) or None
    for cls in _all_subclasses(ItineraError):
        if cls.code == code and cls.status == status:
            return cls(detail)
    return ItineraError.answered(status, code or "upstream_error", str(body.get("title", "")),
                                 detail)


def _all_subclasses(cls: type[ItineraError]) -> list[type[ItineraError]]:
    out: list[type[ItineraError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_all_subclasses(sub))
    return out
