"""The dependency checks against this machine's MariaDB and Redis, and private servers."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pymysql
import pytest
import redis

from localaws import deps, servers
from localaws.deps import (
    DependencyMissing,
    MysqlConfig,
    PrivateServer,
    RedisConfig,
    ensure_mysql,
    ensure_redis,
)

ROOT = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
USER, PASSWORD, DATABASE = "itinera_depstest_user", "depstest-pw", "itinera_depstest"


def _drop_test_accounts() -> None:
    """Remove the test user (at every host) and the itinera_depstest* databases."""
    with pymysql.connect(**ROOT, autocommit=True) as conn, conn.cursor() as cur:  # type: ignore[arg-type]
        cur.execute("SELECT Host FROM mysql.user WHERE User = %s", (USER,))
        for (host,) in cur.fetchall():
            cur.execute("DROP USER %s@%s", (USER, host))
        cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                    "WHERE SCHEMA_NAME LIKE 'itinera\\_depstest%%'")
        for (name,) in cur.fetchall():
            cur.execute(f"DROP DATABASE `{name}`")


@pytest.fixture
def mysql_cfg() -> Iterator[MysqlConfig]:
    """A config for a throwaway project user and database on the running MariaDB."""
    _drop_test_accounts()
    yield MysqlConfig(user=USER, password=PASSWORD, database=DATABASE)
    _drop_test_accounts()


@pytest.fixture
def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _create_table_as_project_user(cfg: MysqlConfig, database: str) -> None:
    """Log in as the project user over TCP and use a table in *database*."""
    with pymysql.connect(host=cfg.host, port=cfg.port, user=cfg.user, password=cfg.password,
                         database=database, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS probe (id INT PRIMARY KEY)")
        cur.execute("REPLACE INTO probe VALUES (1)")
        cur.execute("SELECT id FROM probe")
        assert cur.fetchall() == ((1,),)


def _assert_gone(server: PrivateServer, port: int) -> None:
    """The server's process has exited and nothing listens on its port."""
    assert server.process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(server.process.pid, 0)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_ensure_mysql_creates_the_user_and_databases_on_the_running_server(
    mysql_cfg: MysqlConfig, tmp_path: Path
) -> None:
    """The project user is created as root over TCP and can then use an itinera_* database."""
    server, report = ensure_mysql(mysql_cfg, state_dir=tmp_path, databases=[f"{DATABASE}_xyz"])

    assert server is None
    assert report[0] == "MariaDB: using the server on 127.0.0.1:3306"
    assert f"MariaDB: created user {USER}@127.0.0.1 as root over TCP" in report
    assert f"MariaDB: created user {USER}@localhost as root over TCP" in report
    assert f"MariaDB: created database {DATABASE}_xyz as root over TCP" in report
    assert report[-1] == f"MariaDB: user {USER} connects over TCP to 127.0.0.1:3306"
    assert not any(PASSWORD in line for line in report)
    _create_table_as_project_user(mysql_cfg, f"{DATABASE}_xyz")
    # The prefix grant also lets the project user create test databases itself.
    with pymysql.connect(host="127.0.0.1", port=3306, user=USER, password=PASSWORD) as conn:
        conn.cursor().execute(f"CREATE DATABASE `{DATABASE}_e2e`")
    assert list(tmp_path.iterdir()) == []


def test_ensure_mysql_twice_changes_nothing_the_second_time(
    mysql_cfg: MysqlConfig, tmp_path: Path
) -> None:
    """A second run finds the user able to log in and every database there."""
    ensure_mysql(mysql_cfg, state_dir=tmp_path, databases=[f"{DATABASE}_xyz"])
    server, report = ensure_mysql(mysql_cfg, state_dir=tmp_path, databases=[f"{DATABASE}_xyz"])

    assert server is None
    assert report == ["MariaDB: using the server on 127.0.0.1:3306",
                      f"MariaDB: user {USER} connects over TCP to 127.0.0.1:3306"]


def test_ensure_mysql_grants_a_database_outside_the_prefix_exactly(tmp_path: Path) -> None:
    """A database that does not start with cfg.database gets its own grant."""
    _drop_test_accounts()
    cfg = MysqlConfig(user=USER, password=PASSWORD, database=f"{DATABASE}_main")
    try:
        _, report = ensure_mysql(cfg, state_dir=tmp_path, databases=[f"{DATABASE}_side"])
        assert (f"MariaDB: granted {USER} all privileges on {DATABASE}_main*, {DATABASE}_side "
                "as root over TCP") in report
        _create_table_as_project_user(cfg, f"{DATABASE}_side")
    finally:
        _drop_test_accounts()


def test_ensure_mysql_creates_a_missing_database_as_the_project_user(
    mysql_cfg: MysqlConfig, tmp_path: Path
) -> None:
    """Once the user exists, a new itinera_* database needs no admin."""
    ensure_mysql(mysql_cfg, state_dir=tmp_path)
    _, report = ensure_mysql(mysql_cfg, state_dir=tmp_path, databases=[f"{DATABASE}_new"])

    assert f"MariaDB: created database {DATABASE}_new as {USER}" in report


def test_ensure_mysql_explains_an_existing_user_with_another_password(
    mysql_cfg: MysqlConfig, tmp_path: Path
) -> None:
    """A user that exists with a different password is reported, not silently changed."""
    ensure_mysql(mysql_cfg, state_dir=tmp_path)
    other = MysqlConfig(user=USER, password="not-the-same-pw", database=DATABASE)

    with pytest.raises(DependencyMissing, match="another password") as caught:
        ensure_mysql(other, state_dir=tmp_path)
    assert "not-the-same-pw" not in str(caught.value)


def test_ensure_mysql_refuses_a_port_that_is_not_mariadb(tmp_path: Path) -> None:
    """A port held by something else (here Redis) gives a clear error, quickly."""
    started = time.monotonic()
    with pytest.raises(DependencyMissing, match=r"127\.0\.0\.1:6379 but it is not MariaDB"):
        ensure_mysql(MysqlConfig(port=6379), state_dir=tmp_path)
    assert time.monotonic() - started < 5


def test_ensure_redis_uses_the_running_server(tmp_path: Path) -> None:
    """A Redis that answers PING is used as is, with no private server."""
    server, report = ensure_redis(RedisConfig(), state_dir=tmp_path)

    assert server is None
    assert report == ["Redis: using the server on 127.0.0.1:6379"]
    assert list(tmp_path.iterdir()) == []


def test_ensure_redis_refuses_a_port_that_is_not_redis(tmp_path: Path) -> None:
    """A port held by something else (here MariaDB) gives a clear error."""
    with pytest.raises(DependencyMissing, match=r"127\.0\.0\.1:3306 but it is not Redis"):
        ensure_redis(RedisConfig(port=3306), state_dir=tmp_path)


def test_missing_servers_raise_the_install_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, free_port: int
) -> None:
    """With nothing listening and no binaries, both checks say how to install the servers."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers, "EXTRA_BIN_DIRS", ())
    state = tmp_path / "state"

    with pytest.raises(DependencyMissing, match="apt-get install mariadb-server redis-server"):
        ensure_redis(RedisConfig(port=free_port), state_dir=state)
    with pytest.raises(DependencyMissing, match="mariadbd, mariadb-install-db"):
        ensure_mysql(MysqlConfig(port=free_port), state_dir=state)
    assert not state.exists()


def test_private_redis_starts_answers_and_stops(tmp_path: Path, free_port: int) -> None:
    """With nothing on the port a private Redis starts in the state folder and stops cleanly."""
    server, report = ensure_redis(RedisConfig(port=free_port), state_dir=tmp_path)
    assert server is not None
    try:
        assert report == [f"Redis: started a private server on 127.0.0.1:{free_port} "
                          f"(pid {server.process.pid}, files in {tmp_path / 'redis'})"]
        with redis.Redis(host="127.0.0.1", port=free_port) as client:
            assert client.ping()
            assert client.config_get("save") == {"save": ""}
            assert client.config_get("appendonly") == {"appendonly": "no"}
        assert (tmp_path / "redis" / "redis.pid").read_text().strip() == str(server.process.pid)
    finally:
        server.stop()
    _assert_gone(server, free_port)
    assert not (tmp_path / "redis" / "redis.pid").exists()


def test_private_mariadb_starts_creates_the_user_and_is_reused(
    tmp_path: Path, free_port: int
) -> None:
    """A private MariaDB is initialised once, gets the project user, stops, and reuses its data."""
    cfg = MysqlConfig(port=free_port, user=USER, password=PASSWORD, database=DATABASE)
    data = tmp_path / "mariadb" / "data"

    server, report = ensure_mysql(cfg, state_dir=tmp_path, databases=[f"{DATABASE}_xyz"])
    assert server is not None
    try:
        assert report[0] == f"MariaDB: initialised a new data directory {data}"
        assert report[1].startswith(f"MariaDB: started a private server on 127.0.0.1:{free_port} "
                                    f"(pid {server.process.pid}")
        assert f"MariaDB: created user {USER}@127.0.0.1 as root over TCP" in report
        _create_table_as_project_user(cfg, f"{DATABASE}_xyz")
    finally:
        server.stop()
    _assert_gone(server, free_port)

    again, report = ensure_mysql(cfg, state_dir=tmp_path, databases=[f"{DATABASE}_xyz"])
    assert again is not None
    try:
        assert report[0] == f"MariaDB: reusing the data directory {data}"
        assert report[-1] == f"MariaDB: user {USER} connects over TCP to 127.0.0.1:{free_port}"
        assert not any("created" in line for line in report)
        _create_table_as_project_user(cfg, f"{DATABASE}_xyz")
    finally:
        again.stop()
    _assert_gone(again, free_port)


def test_private_mariadb_that_cannot_start_is_reported_and_cleaned_up(
    tmp_path: Path, free_port: int
) -> None:
    """A broken data directory makes a clear error with the log, and leaves no process behind."""
    (tmp_path / "mariadb" / "data" / "mysql").mkdir(parents=True)  # looks initialised, is not
    started = time.monotonic()

    with pytest.raises(DependencyMissing, match="did not start") as caught:
        ensure_mysql(MysqlConfig(port=free_port), state_dir=tmp_path)
    assert "mariadbd.log" in str(caught.value)
    assert time.monotonic() - started < deps.START_TIMEOUT


def test_ensure_mysql_falls_back_to_the_root_unix_socket(tmp_path: Path, free_port: int) -> None:
    """When root may log in by unix socket only, as on a fresh Debian, the user is made there."""
    cfg = MysqlConfig(port=free_port, user=USER, password=PASSWORD, database=DATABASE)
    server, _ = ensure_mysql(cfg, state_dir=tmp_path)
    assert server is not None and server.socket_path is not None
    try:
        # GIVEN a server where root over TCP is refused and the project user does not exist
        with pymysql.connect(unix_socket=str(server.socket_path), user="root", password="",
                             autocommit=True) as conn, conn.cursor() as cur:
            cur.execute("DROP USER %s@'127.0.0.1', %s@'localhost'", (USER, USER))
            cur.execute("ALTER USER root@'127.0.0.1' IDENTIFIED VIA unix_socket")
        with pytest.raises(pymysql.OperationalError) as refused:
            pymysql.connect(host="127.0.0.1", port=free_port, user="root", password="")
        assert refused.value.args[0] in (1045, 1698)

        # WHEN the running server is ensured with the socket as the admin's way in
        sock = str(server.socket_path)
        _, report = ensure_mysql(replace(cfg, admin_socket=sock), state_dir=tmp_path)

        # THEN the user is created through the socket and can log in over TCP
        assert report[0] == f"MariaDB: using the server on 127.0.0.1:{free_port}"
        assert (f"MariaDB: created user {USER}@127.0.0.1 through the root unix socket {sock}"
                in report)
        _create_table_as_project_user(cfg, DATABASE)
    finally:
        server.stop()
    _assert_gone(server, free_port)
