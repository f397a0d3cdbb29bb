"""Local sign-in: a traveller's name gets a token from the local issuer (development only).

On AWS the page signs in through the Cognito user pool's hosted UI; this route and the
`config.json` that points the page at it exist only in the local CloudFront stand-in and the
local stack's upload, never in the gateway, the template or the deploy's build.
"""

from __future__ import annotations

from aiohttp import web

from gateway.web import Asset, config_asset
from itinera.auth import SUBJECT, LocalIssuer
from itinera.errors import BadRequest, ItineraError, ValidationFailed
from itinera.web import json_response, problem_response

TOKEN_PATH = "/_local/token"  # noqa: S105 - a path, not a secret
TOKEN_TTL_SECONDS = 3600


def local_sign_in_config() -> Asset:
    """Return the local stack's `config.json`: sign in by name at the local token route."""
    return config_asset({"kind": "local", "token_url": TOKEN_PATH})


def token_routes(issuer: LocalIssuer) -> list[web.RouteDef]:
    """Return the local token route, minting with *issuer*."""

    async def token(request: web.Request) -> web.Response:
        try:
            name = await _name(request)
        except ItineraError as err:
            return problem_response(err, request.path)
        minted = issuer.mint(name, ttl=TOKEN_TTL_SECONDS)
        return json_response({"access_token": minted, "token_type": "Bearer",
                              "expires_in": TOKEN_TTL_SECONDS},
                             headers={"Cache-Control": "no-store"})

    return [web.post(TOKEN_PATH, token)]


async def _name(request: web.Request) -> str:
    if request.content_type != "application/json":
        raise BadRequest("send {\"name\": ...} as application/json")
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest("the body is not valid JSON") from exc
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not SUBJECT.fullmatch(name):
        raise ValidationFailed("name: 1 to 128 letters, digits or ._@:+-, starting with a "
                               "letter or digit", errors=[{"field": "name", "message":
                                                           "letters, digits or ._@:+- only"}])
    return name
