"""The problem+json documents HAProxy answers with when it, not a target, ends a request."""

from __future__ import annotations

import json
from dataclasses import dataclass

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


def body_format(problem: Problem) -> str:
    """Return the problem document as a HAProxy log-format string (the request id filled in)."""
    fixed = json.dumps({"type": PROBLEM_TYPE.format(code=problem.code), "title": problem.title,
                        "status": problem.status, "code": problem.code,
                        "detail": problem.detail}, separators=(",", ":"))
    # The id may hold quotes or backslashes, so it goes in through the json converter.
    return fixed[:-1] + ',"request_id":"' + REQUEST_ID_JSON + '"}'


def _seconds(value: float) -> str:
    return f"{value:g} s"
