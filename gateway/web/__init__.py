"""The travellers' booking page: static files built with hashed names, for the web bucket."""

from gateway.web.build import (
    HTML_CACHE,
    IMMUTABLE,
    Asset,
    BuildError,
    build,
    config_asset,
    sign_in_config,
    write,
)
from gateway.web.publish import invalidate, upload

__all__ = ["HTML_CACHE", "IMMUTABLE", "Asset", "BuildError", "build", "config_asset", "invalidate",
           "sign_in_config", "upload", "write"]
