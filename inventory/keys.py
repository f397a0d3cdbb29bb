"""Typed keys of the inventory app's state."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiomysql
from aiohttp import web

from inventory.settings import Settings

if TYPE_CHECKING:
    from inventory.cache import SearchCache
    from inventory.catalog import Catalog
    from inventory.holds import HoldRepository

settings_key = web.AppKey("inventory_settings", Settings)
pool_key = web.AppKey("inventory_mysql_pool", aiomysql.Pool)
# Annotated rather than passed a type: these modules import the keys, not the other way.
cache_key: web.AppKey[SearchCache] = web.AppKey("inventory_search_cache")
catalog_key: web.AppKey[Catalog] = web.AppKey("inventory_catalog")
holds_key: web.AppKey[HoldRepository] = web.AppKey("inventory_holds")
sweeper_key = web.AppKey("inventory_sweeper", asyncio.Task[None])
