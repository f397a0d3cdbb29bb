"""The local distribution: /v1/* to the public load balancer, everything else from the bucket."""

from __future__ import annotations

import gzip
import logging
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC
from email.utils import format_datetime
from typing import Any

import aiohttp
from aiohttp import web
from botocore.exceptions import BotoCoreError, ClientError

from itinera.aws import BOTO_CONFIG, session
from itinera.localstack.cloudfront.model import Behavior, Distribution

log = logging.getLogger("itinera.cloudfront")
VIA = "1.1 local.cloudfront.net (CloudFront)"
# Hop-by-hop headers (RFC 9110, 7.6.1) stay on their own connection; Host is left out as the
# AllViewerExceptHostHeader origin request policy does, so the origin sees its own name.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "te", "trailer", "transfer-encoding", "upgrade", "host",
                        "content-length"})
# CloudFront compresses these types, from 1,000 bytes to 10,000,000 bytes, when the viewer
# accepts it (gzip here; CloudFront prefers Brotli when the viewer offers both).
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml",
                "application/xml")
MIN_COMPRESS, MAX_COMPRESS = 1_000, 10_000_000
# CloudFront's defaults: 10 s to connect to a custom origin, 30 s for its answer.
ORIGIN_TIMEOUT = aiohttp.ClientTimeout(sock_connect=10, sock_read=30)
# What S3 answers, through origin access control, for a key that does not exist: the
# bucket policy grants s3:GetObject only, and without s3:ListBucket a missing key is 403.
ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                 b"<Message>Access Denied</Message></Error>")
# The same limit as the local load balancer behind it.
MAX_BODY_BYTES = 1024 * 1024

origins_key = web.AppKey("origins", dict[str, str])
distribution_key = web.AppKey("distribution", Distribution)
http_key = web.AppKey("http", aiohttp.ClientSession)
# An aiobotocore S3 client; its class is generated at run time, so it has no static type.
s3_key: web.AppKey[Any] = web.AppKey("s3")


def create_app(distribution: Distribution, origins: Mapping[str, str],
               *, extra_routes: list[web.RouteDef] | None = None) -> web.Application:
    """Return the edge app; *origins* maps each origin id to `s3://bucket` or a local URL."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[distribution_key] = distribution
    app[origins_key] = dict(origins)
    app.cleanup_ctx.append(_clients)
    app.add_routes(extra_routes or [])
    app.router.add_route("*", "/{path:.*}", edge)
    return app


async def _clients(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=ORIGIN_TIMEOUT, auto_decompress=False) as http, \
            session().client("s3", config=BOTO_CONFIG) as s3:
        app[http_key] = http
        app[s3_key] = s3
        yield


async def edge(request: web.Request) -> web.StreamResponse:
    """Answer one viewer request through the behaviour its path matches."""
    started = time.monotonic()
    dist = request.app[distribution_key]
    behavior = dist.behavior(request.path)
    if request.method not in behavior.methods:
        response = _error(403, "This distribution is not configured to allow the HTTP "
                               "request method that was used for this request.")
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
            return web.Response(status=403, body=ACCESS_DENIED, content_type="application/xml")
        return _error(502, f"The origin answered {exc.response['Error']['Code']}.")
    except (BotoCoreError, TimeoutError):
        return _error(502, "CloudFront wasn't able to connect to the origin.")
    out = {"Content-Type": obj.get("ContentType", "binary/octet-stream"), "ETag": obj["ETag"],
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
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    # CloudFront appends the viewer's address to X-Forwarded-For, as a proxy does.
    forwarded = request.headers.get("X-Forwarded-For")
    viewer = request.remote or ""
    headers["X-Forwarded-For"] = f"{forwarded}, {viewer}" if forwarded else viewer
    headers["Via"] = VIA
    url = f"{request.app[origins_key][behavior.origin.id]}{request.raw_path}"
    body = await request.read()
    try:
        async with request.app[http_key].request(request.method, url, headers=headers,
                                                 data=body or None,
                                                 allow_redirects=False) as resp:
            data = await resp.read()
            out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=resp.status, headers=out, body=data)
    except TimeoutError:
        return _error(504, "CloudFront attempted to establish a connection with the origin, "
                           "but the origin did not respond in time.")
    except aiohttp.ClientError:
        return _error(502, "CloudFront wasn't able to connect to the origin.")


def _error(status: int, detail: str) -> web.Response:
    # CloudFront's own errors are short HTML pages; so are these.
    reason = {403: "403 ERROR", 502: "502 ERROR", 504: "504 ERROR"}.get(status, f"{status}")
    page = (f"<!DOCTYPE html><html><head><title>{reason}</title></head><body>"
            f"<h1>{reason}</h1><p>The request could not be satisfied.</p><p>{detail}</p>"
            "</body></html>")
    return web.Response(status=status, text=page, content_type="text/html",
                        headers={"Cache-Control": "no-store"})
