"""The local CloudFront reads the template's distribution; local sign-in is local only."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.routes import OPERATIONS
from itinera.auth import AUDIENCE, LOCAL_ISSUER, LocalIssuer, TokenVerifier
from itinera.localstack.cloudfront import (
    TOKEN_PATH,
    alb_service,
    create_app,
    distribution,
    token_routes,
)
from itinera.localstack.template import Template, TemplateError, load_sam, transform


@pytest.fixture(scope="module")
def template() -> Template:
    """The real template, transformed as for a local run."""
    return transform(load_sam(), region="eu-west-1")


def test_api_paths_go_to_the_load_balancer_and_the_rest_to_the_web_bucket(
        template: Template) -> None:
    """/v1/* and /ready reach the public ALB; everything else, even /v1 alone, the bucket."""
    dist = distribution(template)
    where = {path: dist.behavior(path).origin for path in
             ("/v1/flights", "/v1/bookings/abc/cancel", "/ready", "/", "/index.html",
              "/assets/app.0123456789ab.js", "/v1", "/V1/flights", "/ready/x")}
    assert {p for p, o in where.items() if o.kind == "alb"} == \
        {"/v1/flights", "/v1/bookings/abc/cancel", "/ready"}
    assert {o.resource for o in where.values()} == {"PublicAlb", "WebBucket"}
    assert dist.default_root_object == "index.html"


def test_behaviours_keep_the_templates_methods_compression_and_caching(
        template: Template) -> None:
    """The API behaviour takes every method uncached; the page is GET/HEAD, compressed, cached."""
    dist = distribution(template)
    api, page = dist.behavior("/v1/holds"), dist.behavior("/")
    assert {"POST", "DELETE", "PATCH"} <= api.methods and not api.cached
    assert page.methods == {"GET", "HEAD"} and page.compress and page.cached


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


def test_the_gateway_has_no_sign_in_route() -> None:
    """Tokens come from Cognito on AWS: no gateway operation mints one, or lives off /v1."""
    assert all(op.path.startswith("/v1/") for op in OPERATIONS)
    assert not any("token" in op.path for op in OPERATIONS)
