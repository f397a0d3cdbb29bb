"""The local CloudFront reads the template's distribution; local sign-in is local only."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict

from gateway.routes import OPERATIONS
from itinera.auth import AUDIENCE, LOCAL_ISSUER, LocalIssuer, TokenVerifier
from localaws.cloudfront import (
    TOKEN_PATH,
    alb_service,
    create_app,
    distribution,
    token_routes,
)
from localaws.cloudfront.headers import AddedHeader, HeadersPolicy
from localaws.cloudfront.model import OriginTimeouts
from localaws.template import Template, TemplateError, load_sam, transform


@pytest.fixture(scope="module")
def template() -> Template:
    """The real template, transformed as for a local run."""
    return transform(load_sam(), region="eu-west-1")


def test_api_paths_go_to_the_load_balancer_and_the_rest_to_the_web_bucket(
        template: Template) -> None:
    """Only /v1/* reaches the public ALB; everything else, /ready, /health and /v1 alone
    included, is a key of the bucket."""
    dist = distribution(template)
    where = {path: dist.behavior(path).origin for path in
             ("/v1/flights", "/v1/bookings/abc/cancel", "/ready", "/health", "/", "/index.html",
              "/assets/app.0123456789ab.js", "/v1", "/V1/flights", "/ready/x")}
    assert {p for p, o in where.items() if o.kind == "alb"} == \
        {"/v1/flights", "/v1/bookings/abc/cancel"}
    assert {o.resource for o in where.values()} == {"PublicAlb", "WebBucket"}
    assert dist.default_root_object == "index.html"


def test_behaviours_keep_the_templates_methods_compression_and_caching(
        template: Template) -> None:
    """The API behaviour takes every method uncached; the page is GET/HEAD, compressed, cached."""
    dist = distribution(template)
    api, page = dist.behavior("/v1/holds"), dist.behavior("/")
    assert {"POST", "DELETE", "PATCH"} <= api.methods and not api.cached
    assert page.methods == {"GET", "HEAD"} and page.compress and page.cached


def test_every_behaviour_carries_the_security_headers_policy(template: Template) -> None:
    """The page, its assets and /v1/* get one policy: a CSP that forbids framing and allows
    this origin only (and Cognito's token endpoint), nosniff, DENY, same-origin referrers,
    a year of HSTS, and the origin's Server header removed."""
    policies = {b.path_pattern: b.headers for b in distribution(template).behaviors}
    assert set(policies) == {"/v1/*", "*"} and len(set(policies.values())) == 1
    policy = policies["*"]
    assert policy is not None and policy.removed == {"Server"}
    csp = dict(d.strip().split(" ", 1) for d in str(policy.header("Content-Security-Policy"))
               .split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'none'"
    assert csp["script-src"] == csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self' https://*.amazoncognito.com"
    assert policy.header("X-Content-Type-Options") == "nosniff"
    assert policy.header("X-Frame-Options") == "DENY"
    assert policy.header("Referrer-Policy") == "same-origin"
    assert policy.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains"


def test_a_policy_removes_then_adds_and_keeps_the_origins_header_without_override() -> None:
    """Removal comes first; an added header replaces the origin's only with Override."""
    policy = HeadersPolicy(name="P", removed=frozenset({"Server", "X-Powered-By"}), added=(
        AddedHeader("X-Frame-Options", "DENY", True),
        AddedHeader("Referrer-Policy", "no-referrer", False),
        AddedHeader("X-Powered-By", "edge", True)))
    headers = CIMultiDict({"server": "Python/3.11 aiohttp/3.14", "x-frame-options": "ALLOW",
                           "referrer-policy": "origin", "x-powered-by": "php"})
    policy.apply(headers)
    assert dict(headers) == {"referrer-policy": "origin", "X-Frame-Options": "DENY",
                             "X-Powered-By": "edge"}


def test_origin_timeouts_come_from_the_template_or_cloudfronts_defaults(
        template: Template) -> None:
    """The gateway's origin has the template's 5 s connect, 30 s read and 5 s keep-alive,
    and CloudFront's default of 3 connection attempts; the bucket has every default."""
    dist = distribution(template)
    assert dist.behavior("/v1/holds").origin.timeouts == OriginTimeouts(
        connection_timeout=5, connection_attempts=3, read_timeout=30, keepalive_timeout=5)
    assert dist.behavior("/").origin.timeouts == OriginTimeouts()


def test_the_public_load_balancer_forwards_to_the_gateway(template: Template) -> None:
    """The origin's ALB is followed through its listener rule to the gateway's target group."""
    assert alb_service(template, "PublicAlb") == "gateway"


def test_an_origin_the_local_stack_cannot_map_is_an_error(template: Template) -> None:
    """An origin that is neither the bucket nor a load balancer stops the start, named."""
    resources = copy.deepcopy(template.resources)
    origins = resources["Distribution"]["Properties"]["DistributionConfig"]["Origins"]
    origins[0]["DomainName"] = "example.com"
    with pytest.raises(TemplateError, match="origin web"):
        distribution(Template(resources=resources, parameters=template.parameters))


async def test_a_method_the_behaviour_does_not_allow_is_403(template: Template) -> None:
    """POST to the page is refused at the edge, as CloudFront refuses it, before any origin."""
    app = create_app(distribution(template), {"web": "s3://web", "alb": "http://127.0.0.1:9"})
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/index.html", data=b"x")
        assert resp.status == 403
        assert resp.headers["Via"].endswith("(CloudFront)")


async def test_local_sign_in_mints_a_token_the_gateway_accepts(tmp_path: Path) -> None:
    """A valid name gets an RS256 token for that subject; anything else is a problem."""
    issuer = LocalIssuer(tmp_path / "jwt")
    app = web.Application()
    app.add_routes(token_routes(issuer))
    async with TestClient(TestServer(app)) as client:
        resp = await client.post(TOKEN_PATH, json={"name": "ada.lovelace"})
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        body = await resp.json()
        verifier = TokenVerifier.from_file(issuer.jwks_path, issuer=LOCAL_ISSUER,
                                           audience=AUDIENCE)
        assert verifier.verify(f"Bearer {body['access_token']}").sub == "ada.lovelace"
        for bad in ({"name": "Ada Lovelace"}, {"name": ""}, {"name": 7}, {}):
            resp = await client.post(TOKEN_PATH, json=bad)
            assert resp.status == 422, bad
            assert (await resp.json())["code"] == "validation_failed"
        resp = await client.post(TOKEN_PATH, data="name=ada")
        assert resp.status == 400


def test_neither_the_gateway_nor_the_distribution_can_reach_a_sign_in_route(
        template: Template) -> None:
    """Tokens come from Cognito on AWS: no gateway operation mints one or lives off /v1, and
    the template's distribution sends /_local/* nowhere but to the bucket (S3's 403)."""
    assert all(op.path.startswith("/v1/") for op in OPERATIONS)
    assert not any("token" in op.path for op in OPERATIONS)
    dist = distribution(template)
    assert dist.behavior(TOKEN_PATH).origin.kind == "s3"
    assert not any("_local" in b.path_pattern for b in dist.behaviors)
