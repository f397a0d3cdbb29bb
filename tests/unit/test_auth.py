"""Token verification refuses every forged, stale or misdirected token, and one odd subject."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from itinera.auth import AUDIENCE, LOCAL_ISSUER, LOCAL_KID, LocalIssuer, TokenVerifier
from itinera.errors import Unauthorized


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    """The local issuer, with keys on disk."""
    issuer = LocalIssuer(tmp_path)
    issuer.ensure_keys()
    return issuer


@pytest.fixture
def verifier(issuer: LocalIssuer) -> TokenVerifier:
    """A verifier trusting exactly the issuer's key."""
    return TokenVerifier.from_file(issuer.jwks_path, issuer=LOCAL_ISSUER, audience=AUDIENCE)


def claims(**overrides: Any) -> dict[str, Any]:
    """Return valid claims for alice, with *overrides*."""
    now = int(time.time())
    return {"sub": "alice", "iss": LOCAL_ISSUER, "aud": AUDIENCE, "iat": now,
            "exp": now + 300, "scope": "itinera/traveller", **overrides}


def signed(issuer: LocalIssuer, body: dict[str, Any], **headers: Any) -> str:
    """Return *body* signed by the issuer's real key."""
    return jwt.encode(body, issuer.key_path.read_bytes(), algorithm="RS256",
                      headers={"kid": LOCAL_KID, **headers})


def b64(data: bytes) -> str:
    """Return unpadded base64url."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def bearer(token: str) -> str:
    """Return an Authorization header value."""
    return f"Bearer {token}"


def test_a_valid_token_names_its_subject(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    """The issuer's token for alice verifies, and the scheme may be in any case."""
    token = signed(issuer, claims())
    for scheme in ("Bearer", "bearer", "BEARER"):
        assert verifier.verify(f"{scheme} {token}").sub == "alice"


def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    """An unsigned token (`alg: none`) is refused."""
    head = b64(json.dumps({"alg": "none", "kid": LOCAL_KID}).encode())
    token = f"{head}.{b64(json.dumps(claims()).encode())}."
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(token))


def test_hs256_signed_with_the_public_key_is_refused(issuer: LocalIssuer,
                                                     verifier: TokenVerifier) -> None:
    """The classic confusion: HS256 keyed with the published RSA key is refused."""
    public = json.dumps(json.loads(issuer.jwks_path.read_text())["keys"][0]).encode()
    head = b64(json.dumps({"alg": "HS256", "kid": LOCAL_KID}).encode())
    body = b64(json.dumps(claims()).encode())
    signature = hmac.new(public, f"{head}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(f"{head}.{body}.{b64(signature)}"))


# Times are offsets from when the test runs: absolute ones taken at collection would make
# "not valid yet" valid once the tiers before the unit tests have run for a minute.
@pytest.mark.parametrize("overrides, from_now", [
    ({}, {"exp": -10}),                       # expired beyond the 5 s leeway
    ({}, {"nbf": 60}),                        # not valid yet
    ({"iss": "https://evil.example"}, {}),    # another issuer
    ({"aud": "someone-else"}, {}),            # another audience
], ids=["expired", "not-yet-valid", "issuer", "audience"])
def test_claims_out_of_bounds_are_refused(issuer: LocalIssuer, verifier: TokenVerifier,
                                          overrides: dict[str, Any],
                                          from_now: dict[str, int]) -> None:
    """Expiry, not-before, issuer and audience are all checked."""
    now = int(time.time())
    times = {claim: now + offset for claim, offset in from_now.items()}
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(signed(issuer, claims(**overrides, **times))))


def test_a_token_a_few_seconds_past_expiry_is_within_the_leeway(
        issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    """Two seconds of clock skew are tolerated; ten are not (see the test above)."""
    assert verifier.verify(bearer(signed(issuer, claims(exp=int(time.time()) - 2)))).sub


def test_keys_the_verifier_does_not_hold_are_refused(verifier: TokenVerifier) -> None:
    """Missing or unknown `kid`, and keys offered in the header (`jwk`, `jku`), are refused."""
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    offered = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    for headers in ({}, {"kid": "attacker"}, {"kid": LOCAL_KID, "jwk": offered},
                    {"kid": LOCAL_KID, "jku": "https://evil.example/jwks.json"}):
        token = jwt.encode(claims(), attacker, algorithm="RS256", headers=headers)
        if "kid" not in headers:
            token = jwt.encode(claims(), attacker, algorithm="RS256")
        with pytest.raises(Unauthorized):
            verifier.verify(bearer(token))


def test_a_tampered_payload_is_refused(issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    """Changing the subject after signing breaks the signature."""
    head, _, signature = signed(issuer, claims()).split(".")
    forged = b64(json.dumps(claims(sub="mallory")).encode())
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(f"{head}.{forged}.{signature}"))


@pytest.mark.parametrize("sub", ["alice ", " alice", "alice\t", "al\r\nice", "al\x00ice", "",
                                 "a" * 129, "../alice", "alice/bob", "álice"])
def test_subjects_that_could_read_as_someone_else_are_refused(
        issuer: LocalIssuer, verifier: TokenVerifier, sub: str) -> None:
    """A subject with spaces, controls, slashes or beyond 128 characters is never accepted,
    so no service can trim it into another traveller's identity."""
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(signed(issuer, claims(sub=sub))))


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic YWxpY2U6eA==",
                                    "Token abc"])
def test_headers_without_a_bearer_token_are_refused(verifier: TokenVerifier,
                                                    header: str | None) -> None:
    """No header, an empty one or another scheme is 401."""
    with pytest.raises(Unauthorized):
        verifier.verify(header)


def test_a_remembered_token_still_expires(issuer: LocalIssuer, verifier: TokenVerifier,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A token verified once is not verified again, but past its expiry it is refused."""
    token = bearer(signed(issuer, claims(exp=int(time.time()) + 100)))
    assert verifier.verify(token).sub == "alice"
    later = time.time() + 200
    monkeypatch.setattr("itinera.auth.time.time", lambda: later)
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def test_rotating_the_keys_forgets_what_they_verified(issuer: LocalIssuer,
                                                      verifier: TokenVerifier) -> None:
    """Once its key is no longer trusted, a token verified before is refused."""
    token = bearer(signed(issuer, claims()))
    assert verifier.verify(token).sub == "alice"
    verifier.replace_keys({"keys": []})
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def cognito_access(**overrides: Any) -> dict[str, Any]:
    """Return the claims of a Cognito access token: no `aud`, the app client in `client_id`."""
    body = {**claims(), "token_use": "access", "client_id": AUDIENCE,
            "sub": "3f2b9c1e-7a4d-4e8b-9c2d-1a2b3c4d5e6f", "scope": "itinera/traveller"}
    del body["aud"]
    return {**body, **overrides}


def test_a_cognito_access_token_is_checked_against_its_client_id(
        issuer: LocalIssuer, verifier: TokenVerifier) -> None:
    """Cognito access tokens have no `aud`; their `client_id` must be the expected audience."""
    principal = verifier.verify(bearer(signed(issuer, cognito_access())))
    assert principal.sub == "3f2b9c1e-7a4d-4e8b-9c2d-1a2b3c4d5e6f"
    assert principal.scopes == {"itinera/traveller"}


@pytest.mark.parametrize("overrides", [
    {"client_id": "another-app-client"},          # a token for another app of the pool
    {"client_id": None},                          # no audience at all
    {"token_use": "id"},                          # an ID token without aud is not an access one
])
def test_cognito_access_tokens_for_another_client_are_refused(
        issuer: LocalIssuer, verifier: TokenVerifier, overrides: dict[str, Any]) -> None:
    """Without `aud`, only an access token whose client_id is the audience passes."""
    body = {k: v for k, v in cognito_access(**overrides).items() if v is not None}
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(signed(issuer, body)))


def test_a_token_with_aud_is_still_checked_on_aud(issuer: LocalIssuer,
                                                   verifier: TokenVerifier) -> None:
    """A token carrying `aud` is judged by it even if it also says token_use=access."""
    body = {**claims(aud="someone-else"), "token_use": "access", "client_id": AUDIENCE}
    with pytest.raises(Unauthorized):
        verifier.verify(bearer(signed(issuer, body)))


@pytest.mark.parametrize("header", [
    "Bearer \udcff",                  # aiohttp's decoding of a raw \xff byte
    "Bearer \xff", "Bearer é.é.é", "Bearer \udcffa.b.c",
    "Bearer a.b", "Bearer a.b.c.d", "Bearer a..c", "Bearer a.b.", "Bearer a.b.c\x00",
    "Bearer a.b+c/d.e=", "Bearer abc.def.ghi",
], ids=["surrogate", "latin1", "non-ascii-segments", "non-ascii-prefix", "two-segments",
        "four-segments", "empty-payload", "empty-signature", "nul", "base64-not-url",
        "segments-not-json"])
def test_headers_that_are_no_compact_jws_are_refused_in_our_words(
        verifier: TokenVerifier, header: str) -> None:
    """Bytes outside ASCII, or anything but three base64url segments, are a 401 whose detail
    is ours and quotes nothing the client sent (before, \\xff raised UnicodeEncodeError)."""
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(header)
    token = header.partition(" ")[2]
    assert refused.value.detail in ("the token is not a JWT", "the token is malformed")
    assert token not in refused.value.detail


@pytest.mark.parametrize("overrides, from_now, detail", [
    ({}, {"exp": -10}, "the token has expired"),
    ({}, {"nbf": 60}, "the token is not valid yet"),
    ({}, {"iat": 60}, "the token is not valid yet"),
    ({"iat": "yesterday"}, {}, "the token's issue time is not a time"),
    ({"iss": "https://evil.example"}, {}, "the token is from another issuer"),
    ({"aud": "someone-else"}, {}, "the token is not for this audience"),
    ({"iss": None}, {}, "the token lacks a required claim"),
], ids=["expired", "nbf-ahead", "iat-ahead", "iat-not-a-time", "issuer", "audience",
        "missing-iss"])
def test_each_refusal_has_our_own_detail(issuer: LocalIssuer, verifier: TokenVerifier,
                                         overrides: dict[str, Any], from_now: dict[str, int],
                                         detail: str) -> None:
    """Every way PyJWT refuses a token maps to a short text of ours; its message never shows."""
    now = int(time.time())
    body = {k: v for k, v in claims(**overrides).items() if v is not None}
    body.update({claim: now + offset for claim, offset in from_now.items()})
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(bearer(signed(issuer, body)))
    assert refused.value.detail == detail
    cause = refused.value.__cause__
    assert isinstance(cause, jwt.PyJWTError) and str(cause) not in refused.value.detail


def test_a_signature_that_does_not_verify_says_so(issuer: LocalIssuer,
                                                  verifier: TokenVerifier) -> None:
    """A payload changed after signing is refused as a bad signature, in our words."""
    head, _, signature = signed(issuer, claims()).split(".")
    forged = b64(json.dumps(claims(sub="mallory")).encode())
    with pytest.raises(Unauthorized) as refused:
        verifier.verify(bearer(f"{head}.{forged}.{signature}"))
    assert refused.value.detail == "the token's signature does not verify"
