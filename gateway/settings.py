"""Gateway settings, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itinera.auth import AUDIENCE, LOCAL_ISSUER
from itinera.limits.policies import LIMITS_ENV, Limits, parse_limits
from itinera.settings import SettingsError, env_float, env_int, env_str


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where the gateway's upstreams and token keys are."""

    inventory_url: str
    checkout_api_url: str
    internal_token: str
    # Shared by every task: the anonymous search limit is one budget, however many tasks run.
    redis_url: str
    # One of the two: a JWKS file (local issuer) or URL (Cognito user pool on AWS).
    jwks_path: str = ""
    jwks_url: str = ""
    jwt_issuer: str = LOCAL_ISSUER
    jwt_audience: str = AUDIENCE
    host: str = "127.0.0.1"
    port: int = 8080
    # The abuse limits (itinera/limits/policies.py), with the stage's overrides.
    limits: Limits = field(default_factory=lambda: parse_limits(""))
    # Proxies that append to X-Forwarded-For in front of the gateway: the ALB (and
    # CloudFront on AWS, so 2 there). The client is the entry the outermost trusted one saw.
    trusted_proxy_hops: int = 1
    # A body must arrive within this long; a client trickling bytes holds no handler longer.
    body_timeout_seconds: float = 10.0
    # How long a search answer is reused in a task (0: never); inventory caches for 30 s.
    edge_cache_seconds: float = 1.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment."""
        return cls(inventory_url=env_str("INVENTORY_URL", env=env),
                   checkout_api_url=env_str("CHECKOUT_API_URL", env=env),
                   internal_token=env_str("INTERNAL_TOKEN", env=env),
                   redis_url=env_str("REDIS_URL", env=env),
                   jwks_path=env_str("JWKS_PATH", "", env=env),
                   jwks_url=env_str("JWKS_URL", "", env=env),
                   jwt_issuer=env_str("JWT_ISSUER", LOCAL_ISSUER, env=env),
                   jwt_audience=env_str("JWT_AUDIENCE", AUDIENCE, env=env),
                   host=env_str("HOST", "127.0.0.1", env=env),
                   port=env_int("PORT", 8080, env=env),
                   limits=parse_limits(env_str(LIMITS_ENV, "", env=env)),
                   trusted_proxy_hops=env_int("TRUSTED_PROXY_HOPS", 1, env=env),
                   body_timeout_seconds=env_float("BODY_TIMEOUT_SECONDS", 10.0, env=env),
                   edge_cache_seconds=env_float("EDGE_CACHE_SECONDS", 1.0, env=env)
                   ).checked()

    def checked(self) -> Settings:
        """Return self if exactly one JWKS source is set."""
        if bool(self.jwks_path) == bool(self.jwks_url):
            raise SettingsError("set exactly one of JWKS_PATH and JWKS_URL")
        return self
