"""The gateway trusts the keys published at JWKS_URL, as it would a Cognito user pool's."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.main import create_app
from gateway.settings import Settings
from itinera.auth import AUDIENCE, LOCAL_ISSUER, LocalIssuer


@pytest.fixture
async def issuer_server(tmp_path: Path) -> AsyncIterator[tuple[LocalIssuer, str]]:
    """An issuer whose JWKS is served over HTTP."""
    issuer = LocalIssuer(tmp_path / "keys")
    issuer.ensure_keys()

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response(json.loads(issuer.jwks_path.read_text()))

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", jwks)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield issuer, str(server.make_url("/.well-known/jwks.json"))
    await server.close()


async def test_tokens_signed_by_the_published_keys_pass_and_others_do_not(
        issuer_server: tuple[LocalIssuer, str], tmp_path: Path) -> None:
    """A token from the JWKS URL's issuer gets past auth; one from another key is 401."""
    issuer, url = issuer_server
    settings = Settings(inventory_url="http://127.0.0.1:9", checkout_api_url="http://127.0.0.1:9",
                        redis_url="redis://127.0.0.1:6379/13",
                        internal_token="t", jwks_url=url, jwt_issuer=LOCAL_ISSUER,
                        jwt_audience=AUDIENCE)
    stranger = LocalIssuer(tmp_path / "other")
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        good = {"Authorization": f"Bearer {issuer.mint('alice')}"}
        bad = {"Authorization": f"Bearer {stranger.mint('alice')}"}
        resp = await client.post("/v1/holds", headers=bad, json={"items": []})
        assert resp.status == 401
        # Past auth, the unreachable inventory answers for itself: 503, not 401.
        hold = {"items": [{"kind": "flight", "flight_id": "1", "cabin": "economy",
                           "quantity": 1}]}
        resp = await client.post("/v1/holds", headers=good, json=hold)
        assert resp.status == 503
        assert (await resp.json())["code"] == "dependency_unavailable"


def test_settings_need_exactly_one_key_source() -> None:
    """JWKS_PATH and JWKS_URL are alternatives: neither or both is a configuration error."""
    from itinera.settings import SettingsError

    base = {"INVENTORY_URL": "http://i", "CHECKOUT_API_URL": "http://c", "INTERNAL_TOKEN": "t",
            "REDIS_URL": "redis://r"}
    with pytest.raises(SettingsError):
        Settings.from_env(base)
    with pytest.raises(SettingsError):
        Settings.from_env({**base, "JWKS_PATH": "/k.json", "JWKS_URL": "https://k"})
    assert Settings.from_env({**base, "JWKS_URL": "https://k"}).jwks_url == "https://k"
