"""Versioned schema migrations: each `migrations/NNNN_name.sql` runs once, in order."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import aiomysql

from inventory.db import close_pool, create_pool
from inventory.settings import DatabaseSettings

log = logging.getLogger("inventory.migrate")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Two processes starting at once must not apply the same migration twice.
_LOCK_NAME = "itinera_inventory_migrate"
_LOCK_TIMEOUT_S = 60


class MigrationError(RuntimeError):
    """The migrations on disk disagree with what the database recorded."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """Return the sha256 of the file's text."""
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        """Split the file at semicolons that end a line; comment lines are dropped."""
        lines = [ln for ln in self.sql.splitlines() if not ln.strip().startswith("--")]
        chunks = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
        return [c.strip() for c in chunks if c.strip()]


def load_migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Return the migrations in *folder*, ordered by version."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(match.group(1), path.stem, path.read_text()))
    return found


async def migrate(pool: aiomysql.Pool, folder: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the pending migrations and return the versions applied."""
    applied_now: list[str] = []
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT GET_LOCK(%s, %s)", (_LOCK_NAME, _LOCK_TIMEOUT_S))
        if (await cur.fetchone())[0] != 1:
            raise MigrationError("another process holds the migration lock")
        try:
            # Checked first because IF NOT EXISTS raises a MySQL note (a Python warning).
            await cur.execute("SELECT COUNT(*) FROM information_schema.tables WHERE"
                              " table_schema = DATABASE() AND table_name = 'schema_migrations'")
            if (await cur.fetchone())[0] == 0:
                await cur.execute(
                    "CREATE TABLE schema_migrations ("
                    " version CHAR(4) NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL,"
                    " checksum CHAR(64) NOT NULL,"
                    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
                    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
            await cur.execute("SELECT version, checksum FROM schema_migrations")
            done = dict(await cur.fetchall())
            for migration in load_migrations(folder):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(f"migration {migration.name} changed after it ran")
                    continue
                # DDL commits implicitly in MySQL, so each statement is written to be re-runnable.
                for statement in migration.statements():
                    await cur.execute(statement)
                await cur.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum))
                log.info("migration applied", extra={"migration": migration.name})
                applied_now.append(migration.version)
        finally:
            await cur.execute("SELECT RELEASE_LOCK(%s)", (_LOCK_NAME,))
    return applied_now


async def ensure_database(db: DatabaseSettings) -> None:
    """Create the database named in *db* if it does not exist."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", db.name):
        raise MigrationError(f"refusing to create a database named {db.name!r}")
    pool = await create_pool(db, database=False, maxsize=1)
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM information_schema.schemata"
                              " WHERE schema_name = %s", (db.name,))
            if (await cur.fetchone())[0] == 0:
                await cur.execute(f"CREATE DATABASE `{db.name}` "  # name checked above
                                  "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        await close_pool(pool)


# Set on AWS only: the one-off migration task (master user) also creates the service's own user,
# which logs in with IAM authentication tokens and may only read and write rows.
DB_APP_USER = "DB_APP_USER"


def app_user_statements(user: str, database: str) -> list[str]:
    """Return the statements that create *user* for IAM authentication on Aurora MySQL."""
    for name in (user, database):
        if not re.fullmatch(r"[A-Za-z0-9_]+", name):
            raise MigrationError(f"refusing the name {name!r}")
    return [
        f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin "
        "AS 'RDS' REQUIRE SSL",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO '{user}'@'%'",
    ]


async def ensure_app_user(pool: aiomysql.Pool, user: str, database: str) -> None:
    """Create the service's IAM-authenticated user with row access only, if missing."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        for statement in app_user_statements(user, database):
            await cur.execute(statement)


async def _main() -> None:
    db = DatabaseSettings.from_env()
    await ensure_database(db)
    pool = await create_pool(db)
    try:
        applied = await migrate(pool)
        if app_user := os.environ.get(DB_APP_USER):
            await ensure_app_user(pool, app_user, db.name)
    finally:
        await close_pool(pool)
    log.info("migrations done", extra={"applied": applied, "database": db.name})


if __name__ == "__main__":
    from itinera.logs import configure_logging

    configure_logging("inventory")
    asyncio.run(_main())
