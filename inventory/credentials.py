"""How inventory logs in to MySQL: a fixed password locally, an IAM token on Aurora."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable

from inventory.settings import DatabaseSettings
from itinera.aws import BOTO_CONFIG, session

PasswordSource = Callable[[], Awaitable[str]]
# RDS accepts a token for 15 minutes after it is made; a fresh one is made well before.
TOKEN_REUSE_SECONDS = 600


class IamToken:
    """IAM authentication tokens for one database user, made from the task role's credentials."""

    def __init__(self, db: DatabaseSettings, *, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.db = db
        self.clock = clock
        self._token = ""
        self._made_at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        """Return a token that stays valid for at least five more minutes."""
        async with self._lock:
            if not self._token or self.clock() - self._made_at >= TOKEN_REUSE_SECONDS:
                # Signing is local (SigV4 over the role's credentials): no call to RDS.
                async with session().client("rds", config=BOTO_CONFIG) as rds:
                    self._token = await rds.generate_db_auth_token(
                        DBHostname=self.db.host, Port=self.db.port, DBUsername=self.db.user)
                self._made_at = self.clock()
            return self._token


def password_source(db: DatabaseSettings) -> PasswordSource:
    """Return what gives the password for each new connection of *db*'s pool."""
    if db.auth == "iam":
        return IamToken(db)

    async def fixed() -> str:
        return db.password

    return fixed


def tls_context(db: DatabaseSettings) -> ssl.SSLContext | None:
    """Return a verifying TLS context for *db*'s CA bundle, or None without one."""
    if not db.ssl_ca:
        return None
    context = ssl.create_default_context(cafile=db.ssl_ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
