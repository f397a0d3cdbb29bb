"""Bearer JWTs: RS256 verification against a JWKS (like Cognito), and a local issuer."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from itinera.errors import Forbidden, ItineraError, Unauthorized

ALGORITHM = "RS256"
ADMIN_SCOPE = "itinera/admin"
LOCAL_ISSUER = "https://auth.itinera.local"
AUDIENCE = "itinera"
LOCAL_KID = "itinera-local-1"
# Clock skew tolerated on `exp`, `nbf` and `iat`: hosts run NTP, so seconds, not minutes.
LEEWAY_SECONDS = 5
# Verified tokens remembered per process (a token is a few hundred bytes).
MAX_VERIFIED = 10_000
# One canonical identity: a subject is checked here, where the token is verified, and every
# service uses it as it is. No whitespace or control characters, so nothing downstream (an
# HTTP header, a log line, a key) can trim or split it into someone else. Cognito subjects
# are UUIDs; local ones are names.
SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}")
# A compact JWS is three base64url segments (RFC 7515, 7.1), and an RS256 one signs all
# three. Nothing else reaches PyJWT: it assumes text it can encode, and a byte like \xff in
# the header made it raise UnicodeEncodeError (a 500) instead of refusing the token.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# Our own words for each way PyJWT refuses a token, most specific first: its messages are
# its internals (and echo claims back), and a client should not come to rely on them.
REFUSALS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidIssuedAtError, "the token's issue time is not a time"),
    (jwt.InvalidAudienceError, "the token is not for this audience"),
    (jwt.InvalidIssuerError, "the token is from another issuer"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token must be signed with RS256"),
    (jwt.DecodeError, "the token is malformed"),
)


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
        # Tokens verified with the keys trusted until now; a key gone means check them again.
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()

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
        scheme, _, token = (authorization or "").partition(" ")
        # Auth schemes are case-insensitive (RFC 9110, 11.1).
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a Bearer token is required")
        token = token.strip()
        if not COMPACT_JWS.fullmatch(token):
            raise Unauthorized("the token is not a JWT")
        cached = self._verified.get(token)
        if cached is not None:
            # A token's signature and claims do not change; only time passes. Verifying an
            # RS256 signature on every request cost the gateway a sixth of its CPU.
            if cached["exp"] + LEEWAY_SECONDS < time.time():
                raise Unauthorized("the token has expired")
            return dict(cached)
        claims = self._verify(token)
        self._verified[token] = claims
        while len(self._verified) > MAX_VERIFIED:
            self._verified.popitem(last=False)
        return dict(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise refusal(exc) from exc
        # Pinning the algorithm refuses `none` and HS256-with-the-public-key tricks.
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("the token must be signed with RS256")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise Unauthorized("the token's signing key is unknown")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise refusal(exc) from exc
        # Cognito access tokens carry no `aud`: their audience is the app client in `client_id`.
        cognito_access = "aud" not in unverified and unverified.get("token_use") == "access"
        required = ["exp", "iat", "iss", "sub", "client_id" if cognito_access else "aud"]
        try:
            claims = jwt.decode(token, key=key.key, algorithms=[ALGORITHM],
                                issuer=self.issuer, audience=self.audience,
                                options={"require": required, "verify_aud": not cognito_access},
                                leeway=LEEWAY_SECONDS)
        except jwt.PyJWTError as exc:
            raise refusal(exc) from exc
        if cognito_access and claims.get("client_id") != self.audience:
            raise Unauthorized("the token is not for this audience")
        canonical_subject(claims.get("sub"))
        if not isinstance(claims.get("exp"), int | float):
            raise Unauthorized("the token's expiry is not a time")
        return dict(claims)


def refusal(exc: jwt.PyJWTError) -> Unauthorized:
    """Return the 401 for a token PyJWT refused, in our words, never the library's."""
    for kind, detail in REFUSALS:
        if isinstance(exc, kind):
            return Unauthorized(detail)
    return Unauthorized("the token is invalid")


def canonical_subject(sub: object, *, error: type[ItineraError] = Unauthorized) -> str:
    """Return *sub* if it is a valid subject, exactly as given, else raise *error*."""
    if not isinstance(sub, str) or not SUBJECT.fullmatch(sub):
        raise error("the token's subject must be 1 to 128 letters, digits or ._@:+-")
    return sub


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build a principal from verified claims (`scope` is space separated, as in Cognito)."""
    scope = claims.get("scope", "")
    return Principal(sub=canonical_subject(claims.get("sub")),
                     scopes=frozenset(str(scope).split()))


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
        self._key: Any = None

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
        if self._key is None:
            # Loading the PEM validates the RSA key (~40 ms); signing with it takes ~0.5 ms.
            # A load generator mints a token per virtual user while it measures others.
            self._key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": LOCAL_KID})
