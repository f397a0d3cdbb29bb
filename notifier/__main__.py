"""Run the notifier: `python -m notifier`."""

from __future__ import annotations

from aiohttp import web

from itinera.logs import configure_logging
from notifier.main import create_app
from notifier.settings import Settings


def main() -> None:
    """Read the environment and serve until stopped."""
    configure_logging("notifier")
    settings = Settings.from_env()
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                access_log=None, print=None)


if __name__ == "__main__":
    main()
