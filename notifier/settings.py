"""Notifier settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from itinera.settings import env_int, env_str


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where the notifier reads events and writes what it sends."""

    queue_url: str
    notifications_table: str
    itineraries_bucket: str
    ses_sender: str
    host: str = "127.0.0.1"
    port: int = 8084

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment."""
        return cls(queue_url=env_str("NOTIFIER_QUEUE_URL", env=env),
                   notifications_table=env_str("NOTIFICATIONS_TABLE", env=env),
                   itineraries_bucket=env_str("ITINERARIES_BUCKET", env=env),
                   ses_sender=env_str("SES_SENDER", env=env),
                   host=env_str("HOST", "127.0.0.1", env=env),
                   port=env_int("PORT", 8084, env=env))
