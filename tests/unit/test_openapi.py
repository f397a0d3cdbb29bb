"""The published OpenAPI document is valid and covers exactly the gateway's routes."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from gateway.main import create_app
from gateway.openapi import document
from gateway.settings import Settings


def test_the_document_is_valid_openapi() -> None:
    """The document passes the OpenAPI 3.1 validator."""
    validate(document())


def test_every_route_is_documented_and_nothing_else(tmp_path: object) -> None:
    """Each method and path the gateway serves is in the document, and vice versa."""
    from itinera.auth import LocalIssuer

    issuer = LocalIssuer(f"{tmp_path}/keys")
    issuer.ensure_keys()
    app = create_app(Settings(inventory_url="http://i", checkout_api_url="http://c", redis_url="redis://r",
                              internal_token="t", jwks_path=str(issuer.jwks_path)))
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        # aiohttp keeps regex constraints in the formatter's names: {cabin:[a-z]{1,16}} -> {cabin}
        path = re.sub(r"\{(\w+)(:[^}]*\}?)?\}", r"{\1}", path)
        if route.method != "HEAD":
            served.add((route.method.lower(), path))
    documented = {(method, path) for path, ops in document()["paths"].items() for method in ops}
    assert served == documented
