"""Typed application keys of the gateway."""

from __future__ import annotations

from aiohttp import web

from gateway.edge_cache import EdgeCache
from gateway.hold_limits import HoldGuard
from gateway.settings import Settings
from itinera.auth import TokenVerifier
from itinera.http import ServiceClient
from itinera.limits.gcra import RateLimiter
from itinera.metric_batch import MetricBatch

settings_key = web.AppKey("settings", Settings)
verifier_key = web.AppKey("verifier", TokenVerifier)
clients_key = web.AppKey("clients", dict[str, ServiceClient])
limiter_key = web.AppKey("limiter", RateLimiter)
hold_guard_key = web.AppKey("hold_guard", HoldGuard)
edge_cache_key = web.AppKey("edge_cache", EdgeCache)
route_metrics_key = web.AppKey("route_metrics", MetricBatch)
limit_metrics_key = web.AppKey("limit_metrics", MetricBatch)
