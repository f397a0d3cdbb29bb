"""The problem+json documents HAProxy answers with when it, not a target, ends a request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "https://itinera.dev/problems/{code}"
# The request id is the last word of HAProxy's unique id: the client's X-Request-Id when it is
# acceptable, else a fresh UUID (see `unique_id_format` in haproxy.py). One expression serves
# the header, the body and the log, so they never disagree.
REQUEST_ID = "%[unique-id,word(-1,' ')]"
REQUEST_ID_JSON = "%[unique-id,word(-1,' '),json(ascii)]"


@dataclass(frozen=True)
class Problem:
    """One error the load balancer generates, with its stable code."""

    status: int
    code: str
    title: str
    detail: str
    retry_after: bool = False


def problems(*, max_body: int, max_url: int, max_header_line: int, max_header_lines: int,
             request_timeout: float, server_timeout: float) -> tuple[Problem, ...]:
    """Return every status HAProxy can answer itself (and the limits it enforces), as problems."""
    return (
        Problem(400, "bad_request", "Bad request",
                "The request is malformed, or its request line or headers are too large."),
        Problem(401, "unauthorized", "Authentication required",
                "The load balancer requires authentication."),
        Problem(403, "forbidden", "Forbidden", "The load balancer refused the request."),
        Problem(404, "not_found", "Not found", "The load balancer has no route for this request."),
        Problem(405, "method_not_allowed", "Method not allowed",
                "The load balancer does not accept this method."),
        Problem(407, "proxy_authentication_required", "Proxy authentication required",
                "The load balancer requires proxy authentication."),
        Problem(408, "request_timeout", "Request timeout",
                f"The request headers and body did not arrive within "
                f"{_seconds(request_timeout)}."),
        Problem(410, "gone", "Gone", "The resource is gone."),
        Problem(413, "payload_too_large", "Payload too large",
                f"The request body is larger than {max_body} bytes."),
        Problem(414, "uri_too_long", "URI too long",
                f"The request target is longer than {max_url} bytes."),
        Problem(425, "too_early", "Too early", "The request was sent too early; send it again."),
        Problem(429, "too_many_requests", "Too many requests", "Slow down and retry later.",
                retry_after=True),
        Problem(431, "request_header_fields_too_large", "Request header fields too large",
                f"The request has more than {max_header_lines} header lines, or one longer "
                f"than {max_header_line} bytes."),
        Problem(500, "internal_error", "Internal error",
                "The load balancer failed to handle the request."),
        Problem(501, "not_implemented", "Not implemented",
                "The load balancer does not support this request's framing."),
        Problem(502, "bad_gateway", "Bad gateway",
                "The target closed the connection or sent an invalid response."),
        Problem(503, "no_healthy_target", "Service unavailable",
                "No target could take the request; retry later.", retry_after=True),
        Problem(504, "gateway_timeout", "Gateway timeout",
                f"The target did not answer within {_seconds(server_timeout)}."),
    )


def parser_problems(*, request_timeout: float) -> dict[int, Problem]:
    """Return, by the status HAProxy's HTTP/1 parser picks, the problem each one answers.

    HAProxy 2.6 (mux_h1.c) answers these before a request exists: 400 for a malformed request
    line, header or chunk, or headers past its buffer; 408 for headers not in within `timeout
    http-request`; 413 for an HTTP/1.0 GET, HEAD or DELETE with a body; 422 for a transfer
    coding other than chunked; 500 when it fails itself. 501 is declared but never sent. The
    client's bytes are at fault in all but 500, so none of those answers is a 5xx.
    """
    malformed = Problem(400, "bad_request", "Bad request",
                        "The request is malformed, or its request line or headers are too "
                        "large.")
    return {
        400: malformed, 413: malformed, 422: malformed, 501: malformed,
        408: Problem(408, "request_timeout", "Request timeout",
                     f"The request headers did not arrive within {_seconds(request_timeout)}."),
        500: Problem(500, "internal_error", "Internal error",
                     "The load balancer failed to handle the request."),
    }


def error_file(problem: Problem, *, headers: dict[str, str] | None = None) -> bytes:
    """Return *problem* as a whole HTTP response, for an `errorfile` (no request id: static)."""
    body = json.dumps(_document(problem), separators=(",", ":")).encode()
    lines = [f"HTTP/1.1 {problem.status} {HTTPStatus(problem.status).phrase}",
             f"Content-Type: {PROBLEM_JSON}", f"Content-Length: {len(body)}",
             "Cache-Control: no-store", *[f"{k}: {v}" for k, v in (headers or {}).items()],
             # The parser gave up on this connection's bytes: nothing after them can be read.
             "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def body_format(problem: Problem) -> str:
    """Return the problem document as a HAProxy log-format string (the request id filled in)."""
    fixed = json.dumps(_document(problem), separators=(",", ":"))
    # The id may hold quotes or backslashes, so it goes in through the json converter.
    return fixed[:-1] + ',"request_id":"' + REQUEST_ID_JSON + '"}'


def _document(problem: Problem) -> dict[str, object]:
    return {"type": PROBLEM_TYPE.format(code=problem.code), "title": problem.title,
            "status": problem.status, "code": problem.code, "detail": problem.detail}


def _seconds(value: float) -> str:
    return f"{value:g} s"
