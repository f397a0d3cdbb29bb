"""Bearer JWTs: RS256 verification against a JWKS (like Cognito), and a local issuer."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from itinera.errors import Forbidden, Unauthorized

ALGORITHM = "RS256"
ADMIN_SCOPE = "itinera/admin"
LOCAL_ISSUER = "https://auth.itinera.local"
AUDIENCE = "itinera"
LOCAL_KID = "itinera-local-1"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and scopes."""

    sub: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        """Return whether the caller holds the admin scope."""
        return ADMIN_SCOPE in self.scopes


class TokenVerifier:
    """Verify RS256 tokens: signature by key id, expiry, issuer and audience."""

    def __init__(self, jwks: dict[str, Any], *, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.replace_keys(jwks)

    def replace_keys(self, jwks: dict[str, Any]) -> None:
        """Trust exactly the RS256 keys of *jwks* from now on (key rotation)."""
        self._keys = {k["kid"]: jwt.PyJWK(k, algorithm=ALGORITHM) for k in jwks.get("keys", [])
                      if k.get("kty") == "RSA" and "kid" in k}

    @property
    def key_ids(self) -> frozenset[str]:
        """Return the ids of the keys trusted now."""
        return frozenset(self._keys)

    @classmethod
    def from_file(cls, path: str | Path, *, issuer: str, audience: str) -> TokenVerifier:
        """Build a verifier from a JWKS document on disk."""
        return cls(json.loads(Path(path).read_text()), issuer=issuer, audience=audience)

    def verify(self, authorization: str | None) -> Principal:
        """Return the principal of a valid `Bearer` header or raise `Unauthorized`."""
        return principal_from_claims(self.claims(authorization))

    def claims(self, authorization: str | None) -> dict[str, Any]:
        """Return the verified claims of a `Bearer` header or raise `Unauthorized`."""
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthorized("a Bearer token is required")
        token = authorization[len("Bearer "):].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is malformed") from exc
        # Pinning the algorithm refuses `none` and HS256-with-the-public-key tricks.
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("the token must be signed with RS256")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise Unauthorized("the token's signing key is unknown")
        try:
            claims = jwt.decode(token, key=key.key, algorithms=[ALGORITHM],
                                issuer=self.issuer, audience=self.audience,
                                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
                                leeway=30)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token is invalid: {exc}") from exc
        return dict(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build a principal from verified claims (`scope` is space separated, as in Cognito)."""
    sub = str(claims.get("sub", ""))
    if not sub:
        raise Unauthorized("the token has no subject")
    scope = claims.get("scope", "")
    return Principal(sub=sub, scopes=frozenset(str(scope).split()))


def require_admin(principal: Principal) -> None:
    """Raise `Forbidden` unless *principal* holds the admin scope."""
    if not principal.is_admin:
        raise Forbidden("the admin scope is required")


class LocalIssuer:
    """The local stack's token issuer: an RSA key in a folder, published as a JWKS file."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.key_path = self.folder / "issuer-private.pem"
        self.jwks_path = self.folder / "jwks.json"

    def ensure_keys(self) -> None:
        """Create the key pair and JWKS once; later calls reuse them."""
        if self.key_path.exists() and self.jwks_path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        self.key_path.touch(mode=0o600)
        self.key_path.write_bytes(pem)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        public.update({"kid": LOCAL_KID, "alg": ALGORITHM, "use": "sig"})
        self.jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))

    def mint(self, sub: str, *, admin: bool = False, ttl: int = 3600,
             audience: str = AUDIENCE, issuer: str = LOCAL_ISSUER) -> str:
        """Return a signed token for *sub*, valid for *ttl* seconds."""
        self.ensure_keys()
        now = int(time.time())
        scopes = ["itinera/traveller"] + ([ADMIN_SCOPE] if admin else [])
        claims = {"sub": sub, "iss": issuer, "aud": audience, "iat": now, "exp": now + ttl,
                  "jti": uuid.uuid4().hex, "scope": " ".join(scopes), "token_use": "access"}
        return jwt.encode(claims, self.key_path.read_bytes(), algorithm=ALGORITHM,
                          headers={"kid": LOCAL_KID})
