"""Typed application keys of the gateway."""

from __future__ import annotations

from aiohttp import web

from gateway.edge_cache import EdgeCache
from gateway.limiter import RateLimiter
from gateway.settings import Settings
from itinera.auth import TokenVerifier
from itinera.http import ServiceClient
from itinera.metric_batch import MetricBatch

settings_key = web.AppKey("settings", Settings)
verifier_key = web.AppKey("verifier", TokenVerifier)
clients_key = web.AppKey("clients", dict[str, ServiceClient])
limiter_key = web.AppKey("limiter", RateLimiter)
edge_cache_key = web.AppKey("edge_cache", EdgeCache)
route_metrics_key = web.AppKey("route_metrics", MetricBatch)
