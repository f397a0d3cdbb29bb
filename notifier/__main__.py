"""Run the notifier: `python -m notifier`."""

from __future__ import annotations

from itinera.logs import configure_logging
from itinera.serving import run
from notifier.main import create_app
from notifier.settings import Settings


def main() -> None:
    """Read the environment and serve until stopped."""
    configure_logging("notifier")
    settings = Settings.from_env()
    run(create_app(settings), host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()
