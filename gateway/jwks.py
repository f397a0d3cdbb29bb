"""Token keys for the gateway: a JWKS file locally, a JWKS URL (Cognito) refreshed on AWS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from gateway.keys import settings_key, verifier_key
from itinera.auth import TokenVerifier
from itinera.web import checks_key

log = logging.getLogger("gateway.jwks")
# Cognito publishes a new key before signing with it; a periodic refresh picks it up.
REFRESH_SECONDS = 600


def initial_verifier(jwks_path: str, *, issuer: str, audience: str) -> TokenVerifier:
    """Return a verifier with the file's keys, or with none until the URL has been read."""
    if jwks_path:
        return TokenVerifier.from_file(jwks_path, issuer=issuer, audience=audience)
    return TokenVerifier({"keys": []}, issuer=issuer, audience=audience)


async def fetch(session: aiohttp.ClientSession, url: str) -> dict[str, object]:
    """Return the JWKS document at *url*."""
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
        resp.raise_for_status()
        return dict(await resp.json(content_type=None))


async def refresh_keys(app: web.Application) -> AsyncIterator[None]:
    """Load the keys from JWKS_URL at start and every few minutes; keep the old ones on error."""
    settings = app[settings_key]
    if not settings.jwks_url:
        yield
        return
    verifier = app[verifier_key]

    async def keys_loaded() -> None:
        if not verifier.key_ids:
            raise RuntimeError("no token keys loaded yet")

    app[checks_key]["jwks"] = keys_loaded

    async with aiohttp.ClientSession() as session:

        async def loop() -> None:
            while True:
                try:
                    verifier.replace_keys(await fetch(session, settings.jwks_url))
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    log.warning("JWKS refresh failed; keeping the keys we have", exc_info=True)
                await asyncio.sleep(REFRESH_SECONDS)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
