"""Session setup shared by every tier: real MariaDB and Redis must answer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Several runs share one MariaDB: each may name its own inventory test database.
TEST_INVENTORY_DB = os.environ.get("ITINERA_TEST_INVENTORY_DB", "itinera_test_inventory")
TEST_DATABASES = ("itinera_e2e", TEST_INVENTORY_DB)


@pytest.fixture(scope="session", autouse=True)
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Make MariaDB and Redis answer (starting private ones if needed) for the whole run."""
    if os.environ.get("ITINERA_SKIP_SERVICES"):  # unit-only runs on a machine without them
        yield
        return
    from localaws import deps

    state = ROOT / ".local"
    mysql_cfg = deps.mysql_config_from_env(os.environ)
    mysql_server, lines = deps.ensure_mysql(mysql_cfg, state_dir=state,
                                            databases=TEST_DATABASES)
    redis_server, more = deps.ensure_redis(deps.redis_config_from_env(os.environ),
                                           state_dir=state)
    for line in lines + more:
        print(line)
    os.environ.update({"DB_HOST": mysql_cfg.host, "DB_PORT": str(mysql_cfg.port),
                       "DB_USER": mysql_cfg.user, "DB_PASSWORD": mysql_cfg.password})
    yield
    for server in (redis_server, mysql_server):
        if server is not None:
            server.stop()
