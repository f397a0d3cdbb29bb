"""Typed keys of the inventory app's state."""

from __future__ import annotations

import asyncio

import aiomysql
from aiohttp import web

from inventory.admin import AdminRepository
from inventory.cache import SearchCache
from inventory.catalog import Catalog
from inventory.holds import HoldRepository
from inventory.hotels import HotelCatalog
from inventory.settings import Settings
from itinera.metric_batch import MetricBatch

# The modules that own these types never read app state: the cleanup contexts that fill these
# keys live in inventory/resources.py, above them, so the keys need no forward declaration.
settings_key = web.AppKey("inventory_settings", Settings)
pool_key = web.AppKey("inventory_mysql_pool", aiomysql.Pool)
cache_key = web.AppKey("inventory_search_cache", SearchCache)
catalog_key = web.AppKey("inventory_catalog", Catalog)
holds_key = web.AppKey("inventory_holds", HoldRepository)
sweeper_key = web.AppKey("inventory_sweeper", asyncio.Task[None])
hotels_key = web.AppKey("inventory_hotels", HotelCatalog)
admin_key = web.AppKey("inventory_admin", AdminRepository)
stats_task_key = web.AppKey("inventory_stats_task", asyncio.Task[None])
business_key = web.AppKey("inventory_business_metrics", MetricBatch)
