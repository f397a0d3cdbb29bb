"""Run the inventory service: `python -m inventory`."""

from __future__ import annotations

import logging

from inventory.main import create_app
from inventory.settings import Settings
from itinera.logs import configure_logging
from itinera.serving import run


def main() -> None:
    """Read the environment, log JSON and serve on HOST:PORT."""
    configure_logging("inventory")
    settings = Settings.from_env()
    run(create_app(settings), host=settings.host, port=settings.port)
    logging.getLogger("inventory").info("stopped")


if __name__ == "__main__":
    main()
