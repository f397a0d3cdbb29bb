"""Typed application keys of the gateway."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from gateway.settings import Settings
from itinera.auth import TokenVerifier
from itinera.http import ServiceClient

if TYPE_CHECKING:
    from gateway.ratelimit import RateLimiter

settings_key = web.AppKey("settings", Settings)
verifier_key = web.AppKey("verifier", TokenVerifier)
clients_key = web.AppKey("clients", dict[str, ServiceClient])
# Annotated rather than passed a type: the limiter's module imports these keys.
limiter_key: web.AppKey[RateLimiter] = web.AppKey("limiter")
