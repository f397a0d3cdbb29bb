"""The local distribution: /v1/* to the public load balancer, everything else from the bucket."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError
from multidict import CIMultiDict

from itinera.aws import BOTO_CONFIG, session
from itinera.errors import ItineraError
from itinera.web import PROBLEM_JSON, problem_response
from localaws.cloudfront.headers import name_server
from localaws.cloudfront.model import Behavior, Distribution, Origin
from localaws.cloudfront.viewer import ViewerConnection, ViewerLimits

log = logging.getLogger("itinera.cloudfront")
VIA = "1.1 local.cloudfront.net (CloudFront)"
# Hop-by-hop headers (RFC 9110, 7.6.1) stay on their own connection; Host is left out as the
# AllViewerExceptHostHeader origin request policy does, so the origin sees its own name.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host",
                        "content-length", "expect"})
# CloudFront compresses these types, from 1,000 bytes to 10,000,000 bytes, when the viewer
# accepts it (gzip here; CloudFront prefers Brotli when the viewer offers both).
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                "application/xml")
MIN_COMPRESS, MAX_COMPRESS = 1_000, 10_000_000
# CloudFront tries again after a response timeout only for these; others may have had effects.
RETRIED_ON_TIMEOUT = frozenset({"GET", "HEAD"})
# What S3 answers, through origin access control, for a key that does not exist: the
# bucket policy grants s3:GetObject only, and without s3:ListBucket a missing key is 403.
ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                 b"<Message>Access Denied</Message></Error>")
# The same limit as the local load balancer behind it.
MAX_BODY_BYTES = 1024 * 1024

origins_key = web.AppKey("origins", dict[str, str])
distribution_key = web.AppKey("distribution", Distribution)
limits_key = web.AppKey("limits", ViewerLimits)
# One client per load balancer origin: each keeps idle connections for its keep-alive timeout.
http_key = web.AppKey("http", dict[str, aiohttp.ClientSession])
# An aiobotocore S3 client; its class is generated at run time, so it has no static type.
s3_key: web.AppKey[Any] = web.AppKey("s3")


def create_app(distribution: Distribution, origins: Mapping[str, str],
               *, extra_routes: list[web.RouteDef] | None = None,
               limits: ViewerLimits | None = None) -> web.Application:
    """Return the edge app; *origins* maps each origin id to `s3://bucket` or a local URL."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_http_problems])
    app[distribution_key] = distribution
    app[origins_key] = dict(origins)
    app[limits_key] = limits or ViewerLimits()
    app.cleanup_ctx.append(_clients)
    app.on_response_prepare.append(_edge_headers)
    app.add_routes(extra_routes or [])
    app.router.add_route("*", "/{path:.*}", edge, expect_handler=_expect)
    return app


async def _expect(request: web.Request) -> None:
    # CloudFront removes Expect: a client waiting for 100 Continue gets it from the edge, and
    # any other expectation is ignored, not refused.
    if request.version == aiohttp.HttpVersion11 and \
            request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


@web.middleware
async def _http_problems(request: web.Request, handler: Any) -> web.StreamResponse:
    # What aiohttp's router refuses (no route for `OPTIONS *` or a CONNECT) is a problem too.
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_").replace("-", "_")
        return _error(request, ItineraError.answered(exc.status, code, exc.reason, exc.reason))
    return response


async def _clients(app: web.Application) -> AsyncIterator[None]:
    alb = {b.origin.id: b.origin for b in app[distribution_key].behaviors
           if b.origin.kind == "alb"}
    sessions = {ident: aiohttp.ClientSession(
        auto_decompress=False,
        connector=aiohttp.TCPConnector(keepalive_timeout=origin.timeouts.keepalive_timeout))
        for ident, origin in alb.items()}
    app[http_key] = sessions
    try:
        async with session().client("s3", config=BOTO_CONFIG) as s3:
            app[s3_key] = s3
            yield
    finally:
        for http in sessions.values():
            await http.close()


async def _edge_headers(request: web.Request, response: web.StreamResponse) -> None:
    # Every answer of the port, the app's own errors and extra routes included, gets the
    # response headers policy of the behaviour its path matches.
    behavior = request.app[distribution_key].behavior(request.path)
    if behavior.headers is not None:
        behavior.headers.apply(response.headers)
    name_server(response.headers)


def viewer_error_headers(distribution: Distribution) -> Callable[[web.StreamResponse], None]:
    """Return what gives an answer made below the app the default behaviour's headers."""
    def apply(response: web.StreamResponse) -> None:
        if distribution.default.headers is not None:
            distribution.default.headers.apply(response.headers)
        response.headers["Server"] = "CloudFront"  # aiohttp's own names its versions
    return apply


def late_answer(distribution: Distribution, limits: ViewerLimits) -> bytes:
    """Return the whole 408 problem sent to a viewer whose headers did not arrive in time."""
    body = json.dumps(_timeout_error(limits).problem()).encode()
    headers: CIMultiDict[str] = CIMultiDict({
        "Content-Type": PROBLEM_JSON, "Content-Length": str(len(body)),
        "Cache-Control": "no-store", "Connection": "close", "Via": VIA})
    if distribution.default.headers is not None:
        distribution.default.headers.apply(headers)
    name_server(headers)
    head = [f"HTTP/1.1 408 {HTTPStatus(408).phrase}", *[f"{k}: {v}" for k, v in headers.items()]]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def edge(request: web.Request) -> web.StreamResponse:
    """Answer one viewer request through the behaviour its path matches."""
    started = time.monotonic()
    dist = request.app[distribution_key]
    behavior = dist.behavior(request.path)
    if request.method not in behavior.methods:
        response = _error(request, ItineraError.answered(
            403, "method_not_allowed", "Method not allowed",
            "This distribution is not configured to allow the HTTP request method that was "
            "used for this request."))
    elif behavior.origin.kind == "s3":
        response = await _from_bucket(request, behavior, dist)
    else:
        response = await _from_origin(request, behavior)
    response.headers["Via"] = VIA
    response.headers["X-Cache"] = ("Miss from cloudfront" if behavior.cached
                                   else "Miss from cloudfront (caching disabled)")
    response.headers["X-Amz-Cf-Id"] = uuid.uuid4().hex
    log.info("request", extra={"method": request.method, "path": request.path,
                               "behavior": behavior.path_pattern, "origin": behavior.origin.id,
                               "status": response.status,
                               "ms": round((time.monotonic() - started) * 1000, 1)})
    return response


async def _from_bucket(request: web.Request, behavior: Behavior,
                       dist: Distribution) -> web.Response:
    # No cache locally: every request reads the object, so an upload shows at once. Origin
    # access control signs CloudFront's requests to S3; so does this client.
    key = request.path.lstrip("/") or dist.default_root_object
    bucket = request.app[origins_key][behavior.origin.id].removeprefix("s3://")
    try:
        obj = await request.app[s3_key].get_object(Bucket=bucket, Key=key)
        async with obj["Body"] as stream:
            body = await stream.read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "AccessDenied", "404", "403"):
            return web.Response(status=403, body=ACCESS_DENIED, content_type="application/xml",
                                headers={"Server": "AmazonS3"})
        return _error(request, _bad_gateway(f"The origin answered "
                                            f"{exc.response['Error']['Code']}."))
    except (BotoCoreError, TimeoutError):
        return _error(request, _bad_gateway("CloudFront wasn't able to connect to the origin."))
    out = {"Content-Type": obj.get("ContentType", "binary/octet-stream"), "ETag": obj["ETag"],
           "Server": "AmazonS3",
           "Last-Modified": format_datetime(obj["LastModified"].astimezone(UTC), usegmt=True)}
    if "CacheControl" in obj:
        out["Cache-Control"] = obj["CacheControl"]
    if obj["ETag"] in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=out)
    if behavior.compress and _compressible(out["Content-Type"], len(body)) \
            and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = gzip.compress(body, compresslevel=6, mtime=0)
        out["Content-Encoding"] = "gzip"
    out["Vary"] = "Accept-Encoding"
    return web.Response(status=200, headers=out,
                        body=b"" if request.method == "HEAD" else body)


def _compressible(content_type: str, size: int) -> bool:
    return content_type.startswith(COMPRESSIBLE) and MIN_COMPRESS <= size <= MAX_COMPRESS


async def _from_origin(request: web.Request, behavior: Behavior) -> web.Response:
    try:
        body = await _viewer_body(request)
    except ItineraError as err:
        response = _error(request, err)
        # The rest of a body not read in time, or too large, cannot be told from a next request.
        response.force_close()
        return response
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    # CloudFront appends the viewer's address to X-Forwarded-For, as a proxy does.
    forwarded = request.headers.get("X-Forwarded-For")
    viewer = request.remote or ""
    headers["X-Forwarded-For"] = f"{forwarded}, {viewer}" if forwarded else viewer
    headers["Via"] = VIA
    url = f"{request.app[origins_key][behavior.origin.id]}{request.raw_path}"
    http = request.app[http_key][behavior.origin.id]
    try:
        return await _ask_origin(http, behavior.origin, request.method, url, headers, body)
    except (ValueError, UnicodeError, aiohttp.InvalidURL) as exc:
        # Bytes aiohttp's server took but its client will not send (a header it cannot
        # encode, say): the viewer's request is at fault, not the origin.
        return _error(request, ItineraError.answered(
            400, "bad_request", "Bad request", f"the request cannot be forwarded: "
                                               f"{type(exc).__name__}"))
    except TimeoutError:  # aiohttp's timeouts are ClientErrors too: this comes first
        return _error(request, ItineraError.answered(
            504, "gateway_timeout", "Gateway timeout",
            "CloudFront attempted to establish a connection with the origin, but the origin "
            "did not respond in time."))
    except aiohttp.ClientError:
        return _error(request, _bad_gateway("CloudFront wasn't able to connect to the origin."))


async def _viewer_body(request: web.Request) -> bytes:
    """Read the body within what is left of the request's deadline, as sent (no decoding)."""
    protocol = request.protocol
    left = protocol.seconds_left() if isinstance(protocol, ViewerConnection) else None
    try:
        async with asyncio.timeout(left):
            return await request.read()
    except TimeoutError as exc:
        raise _timeout_error(request.app[limits_key]) from exc
    except web.HTTPRequestEntityTooLarge as exc:
        raise ItineraError.answered(413, "payload_too_large", "Payload too large",
                                    f"The request body is larger than {MAX_BODY_BYTES} bytes."
                                    ) from exc
    except (aiohttp.ClientPayloadError, web.HTTPBadRequest) as exc:
        raise ItineraError.answered(400, "bad_request", "Bad request",
                                    "The request body could not be read.") from exc


async def _ask_origin(http: aiohttp.ClientSession, origin: Origin, method: str, url: str,
                      headers: dict[str, str], body: bytes) -> web.Response:
    """Send one request with the origin's timeouts and attempts; return its answer."""
    t = origin.timeouts
    timeout = aiohttp.ClientTimeout(sock_connect=t.connection_timeout, sock_read=t.read_timeout)
    for attempt in range(1, t.connection_attempts + 1):
        try:
            async with http.request(method, url, headers=headers, data=body or None,
                                    allow_redirects=False, timeout=timeout) as resp:
                data = await resp.read()
                out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
                return web.Response(status=resp.status, headers=out, body=data)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            # Nothing was sent: every method may try again.
            if attempt == t.connection_attempts:
                raise
        except aiohttp.SocketTimeoutError:
            if method not in RETRIED_ON_TIMEOUT or attempt == t.connection_attempts:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _timeout_error(limits: ViewerLimits) -> ItineraError:
    return ItineraError.answered(408, "request_timeout", "Request timeout",
                                 f"The request headers and body did not arrive within "
                                 f"{limits.request_timeout:g} s.")


def _bad_gateway(detail: str) -> ItineraError:
    return ItineraError.answered(502, "bad_gateway", "Bad gateway", detail)


def _error(request: web.Request, err: ItineraError) -> web.Response:
    # The edge's own errors are problems, as the gateway's are; CloudFront's id names them.
    response = problem_response(err, request.path)
    response.headers["Cache-Control"] = "no-store"
    return response
