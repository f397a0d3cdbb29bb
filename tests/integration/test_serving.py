"""Any app served by `itinera.serving`, even one without our middleware, answers problems."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from itinera.serving import SERVER, start_serving
from itinera.web import PROBLEM_JSON
from tests.raw_http import Answer, exchange, request


@pytest.fixture
async def bare_app() -> AsyncIterator[int]:
    """Serve an app with no middleware (like the CloudFront stand-in) that fails on purpose."""

    async def crash(_: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    async def hang(_: web.Request) -> web.Response:
        raise TimeoutError

    app = web.Application()
    app.router.add_get("/crash", crash)
    app.router.add_get("/hang", hang)
    runner = await start_serving(app, host="127.0.0.1", port=0)
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def assert_problem(answer: Answer, status: int, code: str) -> None:
    """Check a problem answer: status, media type, code, request id, no server version."""
    assert answer.status == status, answer
    assert answer.headers["Content-Type"].startswith(PROBLEM_JSON)
    assert answer.json()["code"] == code
    assert answer.json()["request_id"] == answer.headers["X-Request-Id"]
    assert answer.headers["Server"] == SERVER


async def test_a_crash_and_a_timeout_stay_5xx_as_problems(bare_app: int) -> None:
    """An unhandled exception is a 500 and a handler timeout a 504, both problem+json, with
    nothing of the exception in the answer."""
    port = bare_app
    crashed = await exchange(port, request("GET", "/crash", b"X-Request-Id: trace-me"))
    assert_problem(crashed, 500, "internal_error")
    assert crashed.headers["X-Request-Id"] == "trace-me"
    assert b"secret" not in crashed.body and b"Traceback" not in crashed.body
    assert_problem(await exchange(port, request("GET", "/hang")), 504, "gateway_timeout")

