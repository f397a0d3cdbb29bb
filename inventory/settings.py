"""The inventory service's configuration, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from itinera.settings import SettingsError, env_float, env_int, env_str

DB_HOST = "DB_HOST"
DB_PORT = "DB_PORT"
DB_USER = "DB_USER"
DB_PASSWORD = "DB_PASSWORD"  # noqa: S105 - the variable's name, not a secret
DB_NAME = "DB_NAME"
# "password" (DB_PASSWORD, the local stack) or "iam": an IAM authentication token made from the
# task role at each connect, so nothing expires a week after deploy (Aurora on AWS).
DB_AUTH = "DB_AUTH"
# A CA bundle file: when set, connections use TLS and verify the server (Aurora's RDS CAs).
DB_SSL_CA = "DB_SSL_CA"
REDIS_URL = "REDIS_URL"
CACHE_TTL_SECONDS = "CACHE_TTL_SECONDS"
HOLD_TTL_SECONDS = "HOLD_TTL_SECONDS"
HOLD_CHECKOUT_GRACE_SECONDS = "HOLD_CHECKOUT_GRACE_SECONDS"
SWEEP_INTERVAL_SECONDS = "SWEEP_INTERVAL_SECONDS"
# One credential per caller, so each is admitted to its own routes only.
GATEWAY_SERVICE_TOKEN = "GATEWAY_SERVICE_TOKEN"  # noqa: S105 - the variable's name
CHECKOUT_SERVICE_TOKEN = "CHECKOUT_SERVICE_TOKEN"  # noqa: S105 - the variable's name
HOST = "HOST"
PORT = "PORT"


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the inventory database lives; migrate and seed need only this."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""
    name: str = "itinera"
    auth: str = "password"
    ssl_ca: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DatabaseSettings:
        """Read the DB_* variables."""
        return cls(
            host=env_str(DB_HOST, cls.host, env=env),
            port=env_int(DB_PORT, cls.port, env=env),
            user=env_str(DB_USER, cls.user, env=env),
            password=env_str(DB_PASSWORD, "", env=env),
            name=env_str(DB_NAME, cls.name, env=env),
            auth=env_str(DB_AUTH, cls.auth, env=env),
            ssl_ca=env_str(DB_SSL_CA, "", env=env),
        ).checked()

    def checked(self) -> DatabaseSettings:
        """Return self if the authentication mode is known and IAM tokens travel over TLS."""
        if self.auth not in {"password", "iam"}:
            raise SettingsError(f"{DB_AUTH} must be password or iam, got {self.auth!r}")
        # The token is sent in clear text (mysql_clear_password): only over a verified TLS link.
        if self.auth == "iam" and not self.ssl_ca:
            raise SettingsError(f"{DB_AUTH}=iam needs {DB_SSL_CA} (the token must travel "
                                "over TLS)")
        return self


@dataclass(frozen=True)
class Settings:
    """Everything the inventory service reads from its environment."""

    db: DatabaseSettings
    gateway_token: str
    checkout_token: str
    redis_url: str = "redis://127.0.0.1:6379/0"
    cache_ttl_seconds: int = 30
    hold_ttl_seconds: int = 900
    # A pinned hold lives at least this long: past the saga's retries (5 receives, backoff
    # up to 8 s, 30 s Lambda timeout) and two reconciler passes (requeue after 300 s, every
    # 5 min), so the sweeper never expires a hold whose booking is still being paid.
    hold_checkout_grace_seconds: int = 1800
    sweep_interval_seconds: float = 5.0
    host: str = "127.0.0.1"
    port: int = 8081

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every variable; the two service tokens are required, the rest have defaults."""
        settings = cls(
            db=DatabaseSettings.from_env(env),
            gateway_token=env_str(GATEWAY_SERVICE_TOKEN, env=env),
            checkout_token=env_str(CHECKOUT_SERVICE_TOKEN, env=env),
            redis_url=env_str(REDIS_URL, cls.redis_url, env=env),
            cache_ttl_seconds=env_int(CACHE_TTL_SECONDS, cls.cache_ttl_seconds, env=env),
            hold_ttl_seconds=env_int(HOLD_TTL_SECONDS, cls.hold_ttl_seconds, env=env),
            hold_checkout_grace_seconds=env_int(HOLD_CHECKOUT_GRACE_SECONDS,
                                                cls.hold_checkout_grace_seconds, env=env),
            sweep_interval_seconds=env_float(SWEEP_INTERVAL_SECONDS, cls.sweep_interval_seconds,
                                             env=env),
            host=env_str(HOST, cls.host, env=env),
            port=env_int(PORT, cls.port, env=env),
        )
        if min(settings.hold_ttl_seconds, settings.cache_ttl_seconds,
               settings.hold_checkout_grace_seconds) < 1:
            raise SettingsError("HOLD_TTL_SECONDS, CACHE_TTL_SECONDS and"
                                " HOLD_CHECKOUT_GRACE_SECONDS must be at least 1")
        if settings.sweep_interval_seconds <= 0:
            raise SettingsError("SWEEP_INTERVAL_SECONDS must be positive")
        return settings
