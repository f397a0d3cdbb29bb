"""What aiohttp refuses below the handlers is answered as a problem with a stable code."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentLengthError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    TransferEncodingError,
)
from aiohttp.test_utils import make_mocked_request

from itinera.serving import (
    MAX_HEADER_FIELD,
    MAX_REQUEST_LINE,
    SERVER,
    ServiceRunner,
    low_level_error,
)

# What a client sent, as aiohttp's exceptions quote it; no answer may repeat it.
SENT = "GET /<script>secret\\xff"

@pytest.mark.parametrize("status, exc, expected", [
    (400, LineTooLong(SENT.encode(), MAX_REQUEST_LINE), (414, "uri_too_long")),
    (400, LineTooLong(SENT.encode(), MAX_HEADER_FIELD),
     (431, "request_header_fields_too_large")),
    (400, BadHttpMessage("Too many headers received"), (431, "request_header_fields_too_large")),
    (400, BadHttpMethod(SENT), (400, "invalid_method")),
    (400, BadStatusLine(SENT), (400, "bad_request")),
    (400, InvalidHeader(SENT), (400, "bad_request")),
    (400, InvalidURLError(SENT), (400, "bad_request")),
    (400, BadHttpMessage(f"Duplicate 'Content-Type' header found. {SENT}"),
     (400, "bad_request")),
    (400, TransferEncodingError(f"Invalid character in chunk size: {SENT}"),
     (400, "bad_request")),
    (400, ContentLengthError(SENT), (400, "bad_request")),
    (500, web.RequestPayloadError(SENT), (400, "bad_request")),
    (504, None, (504, "gateway_timeout")),
    (500, RuntimeError(SENT), (500, "internal_error")),
], ids=["request-line", "header-line", "too-many-headers", "method", "status-line", "header",
        "url", "duplicate-header", "chunk-size", "content-length", "broken-body", "timeout",
        "fault"])
def test_each_low_level_failure_has_a_status_and_code(
        status: int, exc: BaseException | None, expected: tuple[int, str]) -> None:
    """Parser errors are 4xx by kind; a body that broke mid-read is the client's 400; a
    handler timeout and a crash stay 5xx. The detail is ours, never the client's bytes."""
    err = low_level_error(status, exc)
    assert (err.status, err.code) == expected
    problem = err.problem()
    assert problem["detail"] and "secret" not in str(problem) and "script" not in str(problem)

async def test_responses_name_the_server_without_a_version() -> None:
    """The runner's hook replaces aiohttp's `Python/x aiohttp/y`, and keeps a handler's own."""
    app = web.Application()
    ServiceRunner(app)
    app.freeze()
    request = make_mocked_request("GET", "/", app=app)
    plain, own = web.Response(), web.Response(headers={"Server": "CloudFront"})
    plain.headers["Server"] = SERVER_SOFTWARE  # as aiohttp sets it before the hook runs
    for response in (plain, own):
        await app.on_response_prepare.send(request, response)
    assert (plain.headers["Server"], own.headers["Server"]) == (SERVER, "CloudFront")
    assert not any(c.isdigit() for c in SERVER)
