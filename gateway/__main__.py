"""Run the gateway: `python -m gateway`."""

from __future__ import annotations

from gateway.main import create_app
from gateway.settings import Settings
from itinera.logs import configure_logging
from itinera.serving import run


def main() -> None:
    """Read the environment and serve until stopped."""
    configure_logging("gateway")
    settings = Settings.from_env()
    run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
