"""Reading the inventory settings from the environment."""

from __future__ import annotations

import pytest

from inventory.cache import redis_params
from inventory.settings import DatabaseSettings, Settings
from itinera.settings import SettingsError

TOKENS = {"GATEWAY_SERVICE_TOKEN": "g-s3cret", "CHECKOUT_SERVICE_TOKEN": "c-s3cret"}


def test_defaults_apply_when_only_the_tokens_are_set() -> None:
    """The two callers' tokens are the required variables; the rest default as documented."""
    settings = Settings.from_env(TOKENS)
    assert (settings.gateway_token, settings.checkout_token) == ("g-s3cret", "c-s3cret")
    assert settings.db == DatabaseSettings("127.0.0.1", 3306, "root", "", "itinera")
    assert (settings.cache_ttl_seconds, settings.hold_ttl_seconds) == (30, 900)
    assert settings.hold_checkout_grace_seconds == 1800
    assert settings.sweep_interval_seconds == 5.0
    assert (settings.host, settings.port) == ("127.0.0.1", 8081)


def test_every_variable_is_read() -> None:
    """Each documented variable sets its field."""
    env = {"DB_HOST": "db", "DB_PORT": "3307", "DB_USER": "inv", "DB_PASSWORD": "pw",
           "DB_NAME": "inv", "REDIS_URL": "redis://cache:6380/2", "CACHE_TTL_SECONDS": "5",
           "HOLD_TTL_SECONDS": "60", "SWEEP_INTERVAL_SECONDS": "0.5", **TOKENS,
           "HOST": "10.0.0.5", "PORT": "9000", "HOLD_CHECKOUT_GRACE_SECONDS": "120"}
    settings = Settings.from_env(env)
    assert settings.db == DatabaseSettings("db", 3307, "inv", "pw", "inv")
    assert settings.redis_url == "redis://cache:6380/2"
    assert (settings.cache_ttl_seconds, settings.hold_ttl_seconds) == (5, 60)
    assert settings.hold_checkout_grace_seconds == 120
    assert settings.sweep_interval_seconds == 0.5
    assert (settings.host, settings.port) == ("10.0.0.5", 9000)


@pytest.mark.parametrize("missing", sorted(TOKENS))
def test_a_missing_token_is_an_error(missing: str) -> None:
    """Without either caller's token the service refuses to start."""
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env({k: v for k, v in TOKENS.items() if k != missing})


@pytest.mark.parametrize("env", [{"PORT": "http"}, {"HOLD_TTL_SECONDS": "0"},
                                 {"SWEEP_INTERVAL_SECONDS": "-1"},
                                 {"HOLD_CHECKOUT_GRACE_SECONDS": "0"}])
def test_malformed_values_are_errors(env: dict[str, str]) -> None:
    """A non-number or out-of-range value fails loudly instead of defaulting."""
    with pytest.raises(SettingsError):
        Settings.from_env({**TOKENS, **env})


def test_redis_url_is_split_for_aiocache() -> None:
    """REDIS_URL gives host, port, db and password; db and port have defaults."""
    assert redis_params("redis://:p%40ss@cache:6380/15") == {
        "endpoint": "cache", "port": 6380, "db": 15, "password": "p@ss", "ssl": False}
    assert redis_params("redis://127.0.0.1") == {
        "endpoint": "127.0.0.1", "port": 6379, "db": 0, "password": None, "ssl": False}
    with pytest.raises(ValueError, match="REDIS_URL"):
        redis_params("http://x")


def test_rediss_urls_turn_tls_on() -> None:
    """ElastiCache with in-transit encryption is `rediss://`: accepted, and the client uses TLS."""
    from inventory.cache import new_redis_cache

    url = "rediss://master.itinera.abc.euw1.cache.amazonaws.com:6379/0"
    assert redis_params(url) == {"endpoint": "master.itinera.abc.euw1.cache.amazonaws.com",
                                 "port": 6379, "db": 0, "password": None, "ssl": True}
    pool = new_redis_cache(url).client.connection_pool
    assert pool.connection_class.__name__ == "SSLConnection"
    assert new_redis_cache("redis://127.0.0.1/0").client.connection_pool \
        .connection_class.__name__ == "Connection"


def test_database_auth_modes() -> None:
    """DB_AUTH is password (default) or iam; iam needs a CA bundle, since the token is sent
    in clear text and must travel over verified TLS."""
    iam = DatabaseSettings.from_env({"DB_AUTH": "iam", "DB_SSL_CA": "/etc/rds.pem",
                                     "DB_USER": "itinera_app"})
    assert (iam.auth, iam.ssl_ca, iam.user) == ("iam", "/etc/rds.pem", "itinera_app")
    with pytest.raises(SettingsError, match="DB_SSL_CA"):
        DatabaseSettings.from_env({"DB_AUTH": "iam"})
    with pytest.raises(SettingsError, match="DB_AUTH"):
        DatabaseSettings.from_env({"DB_AUTH": "kerberos"})
