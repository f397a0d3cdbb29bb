"""Typed keys of the inventory app's state."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiomysql
from aiohttp import web

from inventory.settings import Settings
from itinera.metric_batch import MetricBatch

if TYPE_CHECKING:
    from inventory.admin import AdminRepository
    from inventory.cache import SearchCache
    from inventory.catalog import Catalog
    from inventory.holds import HoldRepository
    from inventory.hotels import HotelCatalog

settings_key = web.AppKey("inventory_settings", Settings)
pool_key = web.AppKey("inventory_mysql_pool", aiomysql.Pool)
# Annotated rather than passed a type: these modules import the keys, not the other way.
cache_key: web.AppKey[SearchCache] = web.AppKey("inventory_search_cache")
catalog_key: web.AppKey[Catalog] = web.AppKey("inventory_catalog")
holds_key: web.AppKey[HoldRepository] = web.AppKey("inventory_holds")
sweeper_key = web.AppKey("inventory_sweeper", asyncio.Task[None])
hotels_key: web.AppKey[HotelCatalog] = web.AppKey("inventory_hotels")
admin_key: web.AppKey[AdminRepository] = web.AppKey("inventory_admin")
stats_task_key = web.AppKey("inventory_stats_task", asyncio.Task[None])
business_key = web.AppKey("inventory_business_metrics", MetricBatch)
