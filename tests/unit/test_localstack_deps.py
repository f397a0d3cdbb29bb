"""Configuration, SQL quoting and error messages of the local stack's dependency checks."""

from __future__ import annotations

import pytest

from itinera.settings import SettingsError
from localaws.deps import (
    DependencyMissing,
    MysqlConfig,
    RedisConfig,
    grant_statement,
    mysql_config_from_env,
    quote_identifier,
    redis_config_from_env,
)


def test_mysql_config_defaults_when_env_is_empty() -> None:
    """Without DB_* variables the config is the project's local default."""
    cfg = mysql_config_from_env({})
    assert cfg == MysqlConfig()
    assert (cfg.host, cfg.port, cfg.user, cfg.database) == ("127.0.0.1", 3306, "itinera", "itinera")
    assert (cfg.password, cfg.admin_user, cfg.admin_password) == ("itinera", "root", "")
    assert cfg.admin_socket is None


def test_mysql_config_reads_every_variable() -> None:
    """Each DB_* variable lands in its field."""
    cfg = mysql_config_from_env({
        "DB_HOST": "db.local", "DB_PORT": "3307", "DB_USER": "u", "DB_PASSWORD": "p",
        "DB_NAME": "n", "DB_ADMIN_USER": "admin", "DB_ADMIN_PASSWORD": "ap",
        "DB_ADMIN_SOCKET": "/run/x.sock",
    })
    assert cfg == MysqlConfig(host="db.local", port=3307, user="u", password="p", database="n",
                              admin_user="admin", admin_password="ap", admin_socket="/run/x.sock")


def test_mysql_config_rejects_a_port_that_is_not_a_number() -> None:
    """A malformed DB_PORT fails loudly instead of defaulting."""
    with pytest.raises(SettingsError, match="DB_PORT"):
        mysql_config_from_env({"DB_PORT": "three"})


def test_mysql_config_repr_hides_passwords() -> None:
    """Printing a config never shows either password."""
    text = repr(MysqlConfig(password="s3cret-user", admin_password="s3cret-admin"))
    assert "s3cret" not in text
    assert "itinera" in text


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("redis://127.0.0.1:6379/0", "127.0.0.1", 6379),
        ("redis://cache.local:6380", "cache.local", 6380),
        ("redis://cache.local/2", "cache.local", 6379),
        ("rediss://:pw@cache.local:7000/0", "cache.local", 7000),
        ("redis://[::1]:6390/0", "::1", 6390),
    ],
)
def test_redis_config_parses_the_url(url: str, host: str, port: int) -> None:
    """REDIS_URL gives the host and port, with 6379 when the port is left out."""
    assert redis_config_from_env({"REDIS_URL": url}) == RedisConfig(host=host, port=port)


def test_redis_config_defaults_when_env_is_empty() -> None:
    """Without REDIS_URL Redis is expected on 127.0.0.1:6379."""
    assert redis_config_from_env({}) == RedisConfig(host="127.0.0.1", port=6379)


@pytest.mark.parametrize("url", ["http://cache.local:6379", "redis://", "redis://:pw@h:notaport"])
def test_redis_config_rejects_a_malformed_url_without_echoing_it(url: str) -> None:
    """A REDIS_URL that is not redis://host:port fails, and the message omits any password."""
    with pytest.raises(SettingsError, match="REDIS_URL must look like") as caught:
        redis_config_from_env({"REDIS_URL": url})
    assert "pw" not in str(caught.value)


def test_grant_statement_grants_on_the_prefix_with_underscores_escaped() -> None:
    """A prefix grant matches the database and every name it starts, `_` taken literally."""
    assert grant_statement(database="itinera", user="itinera", host="127.0.0.1", prefix=True) == (
        "GRANT ALL PRIVILEGES ON `itinera%`.* TO 'itinera'@'127.0.0.1'"
    )
    assert grant_statement(database="my_app", user="u", host="localhost", prefix=True) == (
        "GRANT ALL PRIVILEGES ON `my\\_app%`.* TO 'u'@'localhost'"
    )


def test_grant_statement_on_one_database_escapes_every_wildcard() -> None:
    """An exact grant escapes `%`, `_` and backslashes so it matches only that name."""
    assert grant_statement(database="a%b_c\\d", user="u", host="%", prefix=False) == (
        "GRANT ALL PRIVILEGES ON `a\\%b\\_c\\\\d`.* TO 'u'@'%'"
    )


def test_grant_statement_quotes_hostile_names() -> None:
    """Backticks in the database and quotes in the account cannot break out of the statement."""
    statement = grant_statement(database="x`y", user="o'brien", host="h'", prefix=False)
    assert statement == "GRANT ALL PRIVILEGES ON `x``y`.* TO 'o\\'brien'@'h\\''"


def test_quote_identifier_doubles_backticks() -> None:
    """An identifier is wrapped in backticks with inner backticks doubled."""
    assert quote_identifier("itinera_e2e") == "`itinera_e2e`"
    assert quote_identifier("a`b") == "`a``b`"


def test_dependency_missing_says_how_to_install_or_point_elsewhere() -> None:
    """The error starts with what went wrong and names the apt-get command and env variables."""
    message = str(DependencyMissing("Redis does not answer on 127.0.0.1:6379"))
    assert message.startswith("Redis does not answer on 127.0.0.1:6379\n")
    assert "apt-get install mariadb-server redis-server" in message
    for variable in ("DB_HOST", "DB_PORT", "REDIS_URL"):
        assert variable in message
    assert isinstance(DependencyMissing("x"), RuntimeError)
