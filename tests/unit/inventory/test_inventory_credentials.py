"""How inventory gets the database password: fixed, or a fresh IAM token per connect."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from inventory import credentials
from inventory.credentials import IamToken, password_source, tls_context
from inventory.migrate import MigrationError, app_user_statements
from inventory.settings import DatabaseSettings

IAM_DB = DatabaseSettings(host="itinera.cluster-x.eu-west-1.rds.amazonaws.com", port=3306,
                          user="itinera_app", auth="iam", ssl_ca="/etc/rds.pem")


class FakeRds:
    """Stands in for aioboto3's RDS client; counts the tokens it signs."""

    made: ClassVar[list[dict[str, Any]]] = []

    async def __aenter__(self) -> FakeRds:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def generate_db_auth_token(self, **kwargs: Any) -> str:
        """Return a token that names its number."""
        self.made.append(kwargs)
        return f"token-{len(self.made)}"


class FakeSession:
    """Stands in for the aioboto3 session."""

    def client(self, name: str, **_: Any) -> FakeRds:
        assert name == "rds"
        return FakeRds()


async def test_iam_tokens_are_reused_ten_minutes_then_renewed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A token is made for the app user at first connect, reused, and renewed after 600 s."""
    FakeRds.made = []
    monkeypatch.setattr(credentials, "session", FakeSession)
    now = [1000.0]
    token = IamToken(IAM_DB, clock=lambda: now[0])
    assert await token() == "token-1"
    now[0] += 599
    assert await token() == "token-1"
    now[0] += 1
    assert await asyncio.gather(token(), token()) == ["token-2", "token-2"]
    assert FakeRds.made[0] == {"DBHostname": IAM_DB.host, "Port": 3306,
                               "DBUsername": "itinera_app"}


async def test_password_mode_gives_the_configured_password() -> None:
    """Locally the password is DB_PASSWORD, as before."""
    source = password_source(DatabaseSettings(password="pw"))
    assert await source() == "pw"
    assert isinstance(password_source(IAM_DB), IamToken)


def test_tls_is_on_and_verifying_only_with_a_ca_bundle() -> None:
    """Without DB_SSL_CA there is no TLS (local MariaDB); with it, the server is verified."""
    import ssl

    assert tls_context(DatabaseSettings()) is None
    bundle = ssl.get_default_verify_paths().cafile
    if bundle is None:
        pytest.skip("no system CA bundle file to load")
    context = tls_context(DatabaseSettings(ssl_ca=bundle))
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname and context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_app_user_authenticates_with_iam_and_only_reads_and_writes_rows() -> None:
    """The migration task creates the service's user for IAM tokens over TLS, with DML only."""
    create, grant = app_user_statements("itinera_app", "itinera")
    assert "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL" in create
    assert grant == "GRANT SELECT, INSERT, UPDATE, DELETE ON `itinera`.* TO 'itinera_app'@'%'"
    with pytest.raises(MigrationError):
        app_user_statements("x'; DROP", "itinera")
