"""Run the gateway: `python -m gateway`."""

from __future__ import annotations

from aiohttp import web

from gateway.main import create_app
from gateway.settings import Settings
from itinera.logs import configure_logging


def main() -> None:
    """Read the environment and serve until stopped."""
    configure_logging("gateway")
    settings = Settings.from_env()
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
