"""The local CloudFront serves the page as CloudFront serves it; sign-in by name is local only."""

from __future__ import annotations

import re

import aiohttp

from localaws import cloudfront
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import auth

YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


def web_url(stack: RunningStack) -> str:
    """Return the local CloudFront's URL."""
    return f"http://127.0.0.1:{stack.config.cloudfront_port}"


async def test_the_page_comes_from_the_bucket_with_cache_headers_for_cloudfront(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """/ is index.html for a minute; its hashed assets are immutable for a year, gzipped."""
    async with http.get(f"{web_url(stack)}/") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        assert resp.headers["Cache-Control"] == "public, max-age=60"
        assert resp.headers["Content-Encoding"] == "gzip"
        assert resp.headers["Via"].endswith("(CloudFront)")
        etag = resp.headers["ETag"]
        html = await resp.text()
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', html)
    assert sorted(a.rsplit(".", 1)[1] for a in assets) == ["css", "js"]
    for path, kind in ((a, "text/css" if a.endswith(".css") else "text/javascript")
                       for a in assets):
        async with http.get(f"{web_url(stack)}{path}") as resp:
            assert resp.status == 200, path
            assert resp.headers["Cache-Control"] == YEAR_IMMUTABLE
            assert resp.headers["Content-Type"].startswith(kind)
    async with http.get(f"{web_url(stack)}/", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304


async def test_every_answer_of_the_web_port_carries_the_security_headers(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """The page, an asset, config.json, /v1/* (the gateway's answer and the edge's own error)
    and a missing key all carry the template's headers policy, and Server says CloudFront,
    never a version."""
    token = stack.token("header-reader")
    async with http.get(f"{web_url(stack)}/") as resp:
        asset = re.findall(r'src="(/assets/[^"]+)"', await resp.text())[0]
    for method, path, headers in (("GET", "/", {}), ("GET", asset, {}),
                                  ("GET", "/config.json", {}),
                                  ("GET", "/v1/bookings", auth(token)),
                                  ("POST", "/v1/holds", {}), ("GET", "/nothing-here", {}),
                                  ("DELETE", "/", {})):
        async with http.request(method, f"{web_url(stack)}{path}", headers=headers) as resp:
            csp = resp.headers.get("Content-Security-Policy", "")
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
            assert resp.headers["X-Content-Type-Options"] == "nosniff", path
            assert resp.headers["X-Frame-Options"] == "DENY", path
            assert resp.headers["Referrer-Policy"] == "same-origin", path
            assert resp.headers["Strict-Transport-Security"].startswith("max-age="), path
            assert resp.headers["Server"] == "CloudFront", path


async def test_readiness_is_not_public_but_stays_on_the_load_balancer(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """/ready and /health are keys of the bucket at the edge (S3's 403), never the gateway's
    answer; the load balancer, internal on AWS, still answers them for checks and operators."""
    for path in ("/ready", "/health"):
        async with http.get(f"{web_url(stack)}{path}") as resp:
            assert resp.status == 403 and resp.content_type == "application/xml", path
            assert b"AccessDenied" in await resp.read()
        async with http.get(f"{stack.url}{path}") as resp:
            assert resp.status == 200, path


async def test_api_paths_reach_the_gateway_through_the_edge(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """/v1/* goes to the public load balancer uncached; the page's paths refuse POST."""
    token = stack.token("edge-walker")
    async with http.get(f"{web_url(stack)}/v1/bookings", headers=auth(token)) as resp:
        assert resp.status == 200
        assert resp.headers["X-Request-Id"]
        assert "caching disabled" in resp.headers["X-Cache"]
    async with http.post(f"{web_url(stack)}/v1/holds", headers=auth(token),
                         json={"items": []}) as resp:
        assert resp.status == 422
        assert (await resp.json())["code"] == "invalid_hold_items"
    async with http.post(f"{web_url(stack)}/", data=b"x") as resp:
        assert resp.status == 403
        assert (await resp.json(content_type=None))["code"] == "method_not_allowed"
    async with http.get(f"{web_url(stack)}/no-such-page") as resp:
        assert resp.status == 403  # S3 through origin access control, without ListBucket


async def test_sign_in_by_name_is_served_by_the_local_edge_and_never_by_the_gateway(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """The local CloudFront mints a token the gateway accepts; the gateway has no such route."""
    async with http.post(f"{web_url(stack)}/_local/token", json={"name": "margaret"}) as resp:
        assert resp.status == 200
        token = (await resp.json())["access_token"]
    async with http.get(f"{stack.url}/v1/bookings", headers=auth(token)) as resp:
        assert resp.status == 200
    for method in ("GET", "POST"):
        async with http.request(method, f"{stack.url}/_local/token",
                                json={"name": "margaret"}) as resp:
            assert resp.status == 404, method


def test_status_reports_the_distribution_and_its_behaviours(stack: RunningStack) -> None:
    """`status()` names the URL, each behaviour's origin, and that the page answers."""
    report = cloudfront.status(stack.config.state_dir)
    assert report["running"] and report["page_status"] == 200
    assert report["url"] == web_url(stack)
    assert [(b["path_pattern"], b["origin"]) for b in report["behaviors"]] == \
        [("/v1/*", "gateway"), ("*", "web")]
