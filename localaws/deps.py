"""Make MariaDB and Redis answer for the local stack: reuse them, start private ones, or explain."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pymysql
from pymysql.connections import Connection
from pymysql.converters import escape_string
from pymysql.cursors import Cursor

from itinera.settings import SettingsError, env_int, env_str
from localaws.processes import port_open
from localaws.servers import (
    START_TIMEOUT,
    DependencyMissing,
    PrivateServer,
    find_binary,
    is_local,
    private_folder,
    spawn,
    tail,
    wait_until_ready,
)

# Re-exported: callers and tests know these as part of this module's API.
__all__ = ["START_TIMEOUT", "DependencyMissing", "MysqlConfig", "PrivateServer", "RedisConfig",
           "ensure_mysql", "ensure_redis", "grant_statement", "mysql_config_from_env",
           "quote_identifier", "redis_config_from_env"]

DB_HOST, DB_PORT, DB_USER, DB_NAME = "DB_HOST", "DB_PORT", "DB_USER", "DB_NAME"
DB_PASSWORD, DB_ADMIN_PASSWORD = "DB_PASSWORD", "DB_ADMIN_PASSWORD"
DB_ADMIN_USER, DB_ADMIN_SOCKET, REDIS_URL = "DB_ADMIN_USER", "DB_ADMIN_SOCKET", "REDIS_URL"

DEBIAN_SOCKETS = ("/run/mysqld/mysqld.sock", "/var/run/mysqld/mysqld.sock")
# 1045: bad password; 1698: root allowed by unix socket only; 1130: no account for this host.
LOGIN_DENIED = frozenset({1045, 1698, 1130})
DATABASE_DENIED = frozenset({1044})
USER_EXISTS, DATABASE_EXISTS = 1973, 1007


@dataclass(frozen=True, kw_only=True)
class MysqlConfig:
    """Where MariaDB is and who the project and its administrator are there."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "itinera"
    password: str = field(default="itinera", repr=False)
    database: str = "itinera"
    admin_user: str = "root"
    admin_password: str = field(default="", repr=False)
    admin_socket: str | None = None  # None tries the usual Debian sockets


@dataclass(frozen=True, kw_only=True)
class RedisConfig:
    """Where Redis is."""

    host: str = "127.0.0.1"
    port: int = 6379


def mysql_config_from_env(env: Mapping[str, str]) -> MysqlConfig:
    """Read the DB_* variables into a MysqlConfig."""
    d = MysqlConfig()
    return MysqlConfig(
        host=env_str(DB_HOST, d.host, env=env), port=env_int(DB_PORT, d.port, env=env),
        user=env_str(DB_USER, d.user, env=env), password=env_str(DB_PASSWORD, d.password, env=env),
        database=env_str(DB_NAME, d.database, env=env),
        admin_user=env_str(DB_ADMIN_USER, d.admin_user, env=env),
        admin_password=env_str(DB_ADMIN_PASSWORD, d.admin_password, env=env),
        admin_socket=env.get(DB_ADMIN_SOCKET) or None,
    )


def redis_config_from_env(env: Mapping[str, str]) -> RedisConfig:
    """Read REDIS_URL (like redis://127.0.0.1:6379/0) into a RedisConfig."""
    parts = urlsplit(env_str(REDIS_URL, "redis://127.0.0.1:6379/0", env=env))
    try:
        port = parts.port or 6379
    except ValueError:
        port = 0
    # The URL may carry a password, so the message never repeats it.
    if parts.scheme not in ("redis", "rediss") or not parts.hostname or not port:
        raise SettingsError(f"{REDIS_URL} must look like redis://host:port/db")
    return RedisConfig(host=parts.hostname, port=port)


def quote_identifier(name: str) -> str:
    """Quote *name* as a MariaDB identifier."""
    return "`" + name.replace("`", "``") + "`"


def grant_statement(*, database: str, user: str, host: str, prefix: bool) -> str:
    """Return the GRANT giving *user*@*host* every privilege on *database* (and names it starts)."""
    # GRANT reads `_` and `%` in database names as wildcards: escape them, add ours on purpose.
    pattern = database.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    target = quote_identifier(pattern + ("%" if prefix else ""))
    return f"GRANT ALL PRIVILEGES ON {target}.* TO '{escape_string(user)}'@'{escape_string(host)}'"


def ensure_mysql(
    cfg: MysqlConfig, *, state_dir: Path, databases: Sequence[str] = ()
) -> tuple[PrivateServer | None, list[str]]:
    """Make MariaDB answer, with the project user able to use cfg.database and *databases*."""
    wanted = list(dict.fromkeys([cfg.database, *databases]))
    report: list[str] = []
    server = None
    if port_open(cfg.host, cfg.port):
        if not _speaks_mysql(cfg.host, cfg.port):
            raise DependencyMissing(
                f"MariaDB: something answers on {cfg.host}:{cfg.port} but it is not MariaDB; "
                f"free the port or set {DB_PORT} to another one")
        report.append(f"MariaDB: using the server on {cfg.host}:{cfg.port}")
    else:
        server = _start_private_mysql(cfg, Path(state_dir) / "mariadb", report)
        # A private data dir is initialised with a password-less root.
        cfg = replace(cfg, admin_user="root", admin_password="",
                      admin_socket=str(server.socket_path))
    try:
        _provision(cfg, wanted, report)
    except BaseException:
        if server is not None:
            server.stop()
        raise
    return server, report


def ensure_redis(cfg: RedisConfig, *, state_dir: Path) -> tuple[PrivateServer | None, list[str]]:
    """Make Redis answer on cfg's host and port, starting a private one if nothing listens."""
    where = f"{cfg.host}:{cfg.port}"
    if port_open(cfg.host, cfg.port):
        reply = _redis_reply(cfg.host, cfg.port)
        if reply.startswith(b"+PONG"):
            return None, [f"Redis: using the server on {where}"]
        if reply.startswith((b"-NOAUTH", b"-WRONGPASS")):
            return None, [f"Redis: using the server on {where} (it asks for a password)"]
        raise DependencyMissing(f"Redis: something answers on {where} but it is not Redis; "
                                f"free the port or set {REDIS_URL} to another one")
    binary = find_binary("redis-server")
    if binary is None:
        raise DependencyMissing(f"Redis does not answer on {where} "
                                "and its server (redis-server) is not installed")
    folder = private_folder(Path(state_dir) / "redis", host=cfg.host, port=cfg.port,
                            name="Redis")
    sock = folder / "redis.sock"
    argv = [binary, "--port", str(cfg.port), "--bind", "127.0.0.1", "--dir", str(folder),
            "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
            "--unixsocket", str(sock), "--unixsocketperm", "700", "--daemonize", "no",
            "--save", "", "--appendonly", "no"]
    server = PrivateServer("Redis", spawn(argv, folder), folder, socket_path=sock)
    wait_until_ready(server, lambda: _redis_reply(cfg.host, cfg.port).startswith(b"+PONG"),
                      folder / "redis.log")
    return server, [f"Redis: started a private server on {where} "
                    f"(pid {server.process.pid}, files in {folder})"]


def _provision(cfg: MysqlConfig, databases: list[str], report: list[str]) -> None:
    """Create the databases as the project user, or the user and grants as the admin."""
    where = f"{cfg.host}:{cfg.port}"
    try:
        with _connect(host=cfg.host, port=cfg.port, user=cfg.user, password=cfg.password) as conn:
            _create_databases(conn, databases, f"as {cfg.user}", report)
            report.append(f"MariaDB: user {cfg.user} connects over TCP to {where}")
            return
    except pymysql.MySQLError as exc:
        if _code(exc) not in LOGIN_DENIED | DATABASE_DENIED:
            raise _not_usable(where, exc) from exc
    conn, how = _admin_connection(cfg)
    with conn:
        _create_databases(conn, databases, how, report)
        hosts = ["127.0.0.1", "localhost", _client_host(conn)]
        # The prefix grant covers cfg.database and every name it starts (itinera_e2e...).
        targets = [(cfg.database, True)] + [
            (name, False) for name in databases if not name.startswith(cfg.database)]
        with conn.cursor() as cur:
            for host in dict.fromkeys(hosts):
                created = _run(cur, "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
                               (cfg.user, host, cfg.password), exists=USER_EXISTS)
                report.append(f"MariaDB: created user {cfg.user}@{host} {how}" if created
                              else f"MariaDB: user {cfg.user}@{host} already exists")
                for name, prefix in targets:
                    cur.execute(grant_statement(database=name, user=cfg.user, host=host,
                                                prefix=prefix))
        granted = ", ".join(name + ("*" if prefix else "") for name, prefix in targets)
        report.append(f"MariaDB: granted {cfg.user} all privileges on {granted} {how}")
    try:
        _connect(host=cfg.host, port=cfg.port, user=cfg.user, password=cfg.password).close()
    except pymysql.MySQLError as exc:
        raise DependencyMissing(
            f"MariaDB: user {cfg.user} still cannot log in on {where} ({exc.args[-1]}); it may "
            f"exist with another password: set {DB_PASSWORD}, or ALTER USER it yourself"
        ) from exc
    report.append(f"MariaDB: user {cfg.user} connects over TCP to {where}")


def _create_databases(conn: Connection, names: list[str], how: str, report: list[str]) -> None:
    """Create each database unless it exists, reporting those it created."""
    with conn.cursor() as cur:
        for name in names:
            if _run(cur, f"CREATE DATABASE IF NOT EXISTS {quote_identifier(name)}",
                    None, exists=DATABASE_EXISTS):
                report.append(f"MariaDB: created database {name} {how}")


def _run(cur: Cursor, sql: str, args: object, *, exists: int) -> bool:
    """Run an IF NOT EXISTS statement; return False if it only warned that the thing exists."""
    cur.execute(sql, args)
    # SHOW WARNINGS alone can list an earlier statement's notes: trust the statement's own count.
    if cur.warning_count == 0:
        return True
    cur.execute("SHOW WARNINGS")
    return not any(row[1] == exists for row in cur.fetchall())


def _admin_connection(cfg: MysqlConfig) -> tuple[Connection, str]:
    """Log in as the admin over TCP, else through a local unix socket of the same server."""
    try:
        conn = _connect(host=cfg.host, port=cfg.port, user=cfg.admin_user,
                        password=cfg.admin_password)
        return conn, f"as {cfg.admin_user} over TCP"
    except pymysql.MySQLError as exc:
        if _code(exc) not in LOGIN_DENIED:
            raise _not_usable(f"{cfg.host}:{cfg.port}", exc) from exc
    sockets = [cfg.admin_socket] if cfg.admin_socket else list(DEBIAN_SOCKETS)
    for path in sockets if is_local(cfg.host) else []:
        if not Path(path).exists():
            continue
        try:
            conn = _connect(unix_socket=path, user=cfg.admin_user, password=cfg.admin_password)
        except pymysql.MySQLError:
            continue
        with conn.cursor() as cur:
            cur.execute("SELECT @@port")
            (port,) = cur.fetchone() or (None,)
        # A socket of another server on this machine must not get our user.
        if port == cfg.port:
            return conn, f"through the {cfg.admin_user} unix socket {path}"
        conn.close()
    raise DependencyMissing(
        f"MariaDB on {cfg.host}:{cfg.port} refuses user {cfg.user}, and {cfg.admin_user} can log "
        f"in neither over TCP nor through {', '.join(sockets)}; set {DB_ADMIN_USER}, "
        f"{DB_ADMIN_PASSWORD} or {DB_ADMIN_SOCKET}, or create the user yourself: "
        f"CREATE USER '{cfg.user}'@'127.0.0.1' IDENTIFIED BY '...'; "
        + grant_statement(database=cfg.database, user=cfg.user, host="127.0.0.1", prefix=True)
    )


def _start_private_mysql(cfg: MysqlConfig, folder: Path, report: list[str]) -> PrivateServer:
    """Start mariadbd on cfg.port with its data, socket, pid and logs in *folder*."""
    server_bin = find_binary("mariadbd", "mysqld")
    install_bin = find_binary("mariadb-install-db", "mysql_install_db")
    if server_bin is None or install_bin is None:
        raise DependencyMissing(f"MariaDB does not answer on {cfg.host}:{cfg.port} "
                                "and its server (mariadbd, mariadb-install-db) is not installed")
    folder = private_folder(folder, host=cfg.host, port=cfg.port, name="MariaDB")
    data, sock = folder / "data", folder / "mysqld.sock"
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    if (data / "mysql").is_dir():
        report.append(f"MariaDB: reusing the data directory {data}")
    else:
        # Initialise aside and rename, so an interrupted run never leaves a half-made data dir.
        fresh = folder / "data.init"
        shutil.rmtree(fresh, ignore_errors=True)
        with (folder / "install.log").open("wb") as log:
            done = subprocess.run(
                [install_bin, "--no-defaults", f"--datadir={fresh}", "--skip-test-db",
                 "--auth-root-authentication-method=normal", "--skip-name-resolve", *as_root],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=folder,
                timeout=120, check=False,
            )
        if done.returncode != 0:
            raise DependencyMissing(f"MariaDB: {install_bin} failed:\n"
                                    + tail(folder / "install.log"))
        fresh.rename(data)
        report.append(f"MariaDB: initialised a new data directory {data}")
    (folder / "tmp").mkdir(exist_ok=True)
    argv = [server_bin, "--no-defaults", f"--datadir={data}", f"--socket={sock}",
            f"--pid-file={folder / 'mysqld.pid'}", f"--log-error={folder / 'mariadbd.log'}",
            f"--tmpdir={folder / 'tmp'}", f"--port={cfg.port}", "--bind-address=127.0.0.1",
            "--skip-name-resolve", *as_root]
    server = PrivateServer("MariaDB", spawn(argv, folder), folder, socket_path=sock)
    wait_until_ready(server, lambda: _speaks_mysql(cfg.host, cfg.port, sock),
                      folder / "mariadbd.log")
    report.append(f"MariaDB: started a private server on 127.0.0.1:{cfg.port} "
                  f"(pid {server.process.pid}, files in {folder})")
    return server


def _speaks_mysql(host: str, port: int, unix_socket: Path | None = None) -> bool:
    """Return whether the server greets like MySQL (handshake v10 or an error packet)."""
    try:
        if unix_socket is None:
            sock = socket.create_connection((host, port), timeout=3)
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(3)
        with sock:
            if unix_socket is not None:
                sock.connect(str(unix_socket))
            greeting = sock.recv(5)
    except OSError:
        return False
    return len(greeting) == 5 and greeting[4] in (0x0A, 0xFF)


def _redis_reply(host: str, port: int) -> bytes:
    """Return what answers PING on host:port, or b"" if nothing does."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64)
    except OSError:
        return b""


def _connect(**kwargs: object) -> Connection:
    """Open a short-lived pymysql connection with bounded waits."""
    # read_timeout bounds the handshake too, when the port belongs to something else.
    return pymysql.connect(connect_timeout=5, read_timeout=30, write_timeout=30,
                           autocommit=True, **kwargs)  # type: ignore[arg-type]


def _client_host(conn: Connection) -> str:
    """Return the host part of the account the server sees this connection as."""
    with conn.cursor() as cur:
        cur.execute("SELECT SUBSTRING_INDEX(USER(), '@', -1)")
        row = cur.fetchone()
    return str(row[0]) if row else "localhost"


def _not_usable(where: str, exc: pymysql.MySQLError) -> DependencyMissing:
    """Describe a server on *where* that does not behave like MariaDB."""
    return DependencyMissing(f"MariaDB: something answers on {where} but not as MariaDB would "
                             f"({exc.args[-1]}); free the port or set {DB_PORT} to another one")


def _code(exc: pymysql.MySQLError) -> int:
    """Return the numeric MySQL error code of *exc*, or 0."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0


