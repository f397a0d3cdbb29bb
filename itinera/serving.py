"""Serve an aiohttp app the one way every Itinera server does: `run`, `serve` or `start_serving`."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import orjson
from aiohttp import hdrs, web, web_protocol
from aiohttp.http import SERVER_SOFTWARE
from aiohttp.http_exceptions import BadHttpMessage, BadHttpMethod, LineTooLong

from itinera.errors import BadRequest, ItineraError
from itinera.logs import request_id_var
from itinera.web import (
    PROBLEM_JSON,
    REQUEST_ID_HEADER,
    SERVED_BY,
    SERVED_BY_HEADER,
    http_exception_problem,
    request_id_of,
)

log = logging.getLogger("itinera.serving")
# Every answer names the product, never the stack's versions: they tell a scanner what to try.
SERVER = "itinera"
# The request line may be as long as CloudFront lets a URL be. The two limits differ on
# purpose: aiohttp's LineTooLong carries only the limit it hit, which tells 414 from 431.
MAX_REQUEST_LINE = 8192
MAX_HEADER_FIELD = 8190  # aiohttp's default
MAX_HEADERS = 128  # aiohttp's default


def low_level_error(status: int, exc: BaseException | None, *, line_limit: int = MAX_REQUEST_LINE
                    ) -> ItineraError:
    """Return the problem that answers what aiohttp refused or failed below every handler.

    aiohttp's own text quotes the client's bytes back (its request line, a header), so the
    answer is only ever chosen from the status aiohttp picked and the kind of exception.
    """
    if isinstance(exc, web.RequestPayloadError):  # a body that broke while a handler read it
        return BadRequest("the request body could not be read")
    if status == 504:
        return ItineraError.answered(504, "gateway_timeout", "Gateway timeout",
                                     "the request took too long to answer")
    if status >= 500:
        return ItineraError()
    if isinstance(exc, LineTooLong) and exc.args[1:2] == (line_limit,):
        return ItineraError.answered(414, "uri_too_long", "URI too long",
                                     f"a request line is at most {line_limit} bytes")
    if isinstance(exc, LineTooLong) or (isinstance(exc, BadHttpMessage)
                                        and exc.message == "Too many headers received"):
        return ItineraError.answered(431, "request_header_fields_too_large",
                                     "Request header fields too large",
                                     f"a header is at most {MAX_HEADER_FIELD} bytes, and a "
                                     f"request has at most {MAX_HEADERS} of them")
    if isinstance(exc, BadHttpMethod):
        # 400, not 405 (no resource was parsed to list in Allow) nor 501 (a scanner's bytes
        # are not our fault, and a 5xx would page someone).
        return ItineraError.answered(400, "invalid_method", "Invalid method",
                                     "the request method is not one this server knows")
    return BadRequest("the request is not valid HTTP/1.1")


class ProblemRequestHandler(web_protocol.RequestHandler):
    """A connection whose own answers (a request it cannot parse, a fault) are problem+json."""

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None
                     ) -> web.StreamResponse:
        """Answer a low-level failure as a problem with a stable code; `message` is unused."""
        err = low_level_error(status, exc, line_limit=self.max_line_size)
        if err.status >= 500:
            log.error("request failed below the handlers", exc_info=exc)
        else:
            log.info("request refused below the handlers", extra={
                "status": err.status, "code": err.code, "remote": request.remote,
                "error": type(exc).__name__ if exc else None})
        if request.writer.output_size > 0:  # as aiohttp's: too late for another answer
            raise ConnectionError("the response has begun; no error response can follow")
        request_id = request_id_of(request.headers)
        headers = {REQUEST_ID_HEADER: request_id, hdrs.SERVER: SERVER, **err.headers()}
        if SERVED_BY:
            headers[SERVED_BY_HEADER] = SERVED_BY
        response = web.Response(body=orjson.dumps({**err.problem(), "request_id": request_id}),
                                status=err.status, content_type=PROBLEM_JSON, headers=headers)
        # As aiohttp does: after a parse error the rest of the connection's bytes mean nothing.
        response.force_close()
        return response


def _answering_http_errors(handle: Any) -> Any:
    """Return *handle* (an app's) answering the HTTP errors raised before its middleware as
    problems: aiohttp's Expect check runs ahead of middleware, and its 417 quotes the header."""

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handle(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            request_id = request_id_of(request.headers)
            token = request_id_var.set(request_id)
            try:
                response = http_exception_problem(exc, request.path)
            finally:
                request_id_var.reset(token)
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    return handler


class _ProblemServer(web.Server):
    """aiohttp's Server, making a `ProblemRequestHandler` for each connection."""

    def __call__(self) -> web_protocol.RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


async def _name_server(_: web.Request, response: web.StreamResponse) -> None:
    # aiohttp has set its default (with versions) by now; a handler's own value stays.
    if response.headers.get(hdrs.SERVER, SERVER_SOFTWARE) == SERVER_SOFTWARE:
        response.headers[hdrs.SERVER] = SERVER


class ServiceRunner(web.AppRunner):
    """An AppRunner whose connections answer as `ProblemRequestHandler` and hide versions."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        app.on_response_prepare.append(_name_server)
        # Bodies arrive as sent: the reader decodes them within the body limit (a gzip bomb
        # is a 413) and refuses codings it does not know with a 415 that lists those it does.
        super().__init__(app, access_log=None, auto_decompress=False,
                         max_line_size=MAX_REQUEST_LINE, max_field_size=MAX_HEADER_FIELD,
                         max_headers=MAX_HEADERS, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # aiohttp has no public hook for the answers its protocol makes itself (text/plain,
        # echoing the request line); the Server builds each connection's handler, so it is
        # remade, with the same arguments, as one that builds ours.
        return _ProblemServer(_answering_http_errors(server.request_handler),
                              request_factory=server.request_factory,
                              handler_cancellation=server.handler_cancellation,
                              loop=server._loop, **server._kwargs)


async def start_serving(app: web.Application, *, host: str, port: int | None) -> ServiceRunner:
    """Serve *app* on host:port (port 0: any free one) and return its runner to clean up."""
    runner = ServiceRunner(app)
    try:
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(app: web.Application, *, host: str, port: int) -> None:
    """Serve *app* until SIGTERM or SIGINT, then shut it down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = await start_serving(app, host=host, port=port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(app: web.Application, *, host: str, port: int) -> None:
    """Run *app* on host:port in a new event loop until SIGTERM or SIGINT (a `__main__`)."""
    asyncio.run(serve(app, host=host, port=port))
