"""Checkout settings, read once from the Lambda environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itinera.limits.policies import LIMITS_ENV, Limits, parse_limits
from itinera.settings import SettingsError, env_float, env_str

BOOKINGS_TABLE = "BOOKINGS_TABLE"
IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE"
PAYMENTS_TABLE = "PAYMENTS_TABLE"
CHECKOUT_QUEUE_URL = "CHECKOUT_QUEUE_URL"
BOOKING_EVENTS_TOPIC_ARN = "BOOKING_EVENTS_TOPIC_ARN"
INVENTORY_URL = "INVENTORY_URL"
INTERNAL_TOKEN = "INTERNAL_TOKEN"  # noqa: S105 - the variable's name, not a secret
INTERNAL_TOKEN_SECRET_ARN = "INTERNAL_TOKEN_SECRET_ARN"  # noqa: S105 - a variable's name
PAYMENT_SIM_LATENCY_MS = "PAYMENT_SIM_LATENCY_MS"
REDIS_URL = "REDIS_URL"
CARD_FINGERPRINT_KEY = "CARD_FINGERPRINT_KEY"
CARD_FINGERPRINT_SECRET_ARN = "CARD_FINGERPRINT_SECRET_ARN"  # noqa: S105 - a variable's name


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where checkout's tables, queue, topic and inventory are."""

    bookings_table: str
    idempotency_table: str
    payments_table: str
    checkout_queue_url: str
    booking_events_topic_arn: str
    inventory_url: str
    # The abuse limits' Redis, shared with the gateway (card testing, the hold ledger).
    redis_url: str
    # On AWS the credential stays in Secrets Manager and is fetched at cold start; the local
    # stack, which has no Secrets Manager in its plan, hands it over directly.
    internal_token: str = ""
    internal_token_secret_arn: str = ""
    payment_latency_ms: float = 0.0
    # The key of the payment simulator's card fingerprints: from Secrets Manager on AWS,
    # handed over by the local stack. Only the API function tokenizes cards, so only it has
    # one (the worker and the reconciler may not read the secret).
    card_fingerprint_key: str = ""
    card_fingerprint_secret_arn: str = ""
    limits: Limits = field(default_factory=lambda: parse_limits(""))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from the environment variables the SAM template sets."""
        return cls(
            bookings_table=env_str(BOOKINGS_TABLE, env=env),
            idempotency_table=env_str(IDEMPOTENCY_TABLE, env=env),
            payments_table=env_str(PAYMENTS_TABLE, env=env),
            checkout_queue_url=env_str(CHECKOUT_QUEUE_URL, env=env),
            booking_events_topic_arn=env_str(BOOKING_EVENTS_TOPIC_ARN, env=env),
            inventory_url=env_str(INVENTORY_URL, env=env),
            internal_token=env_str(INTERNAL_TOKEN, "", env=env),
            internal_token_secret_arn=env_str(INTERNAL_TOKEN_SECRET_ARN, "", env=env),
            payment_latency_ms=env_float(PAYMENT_SIM_LATENCY_MS, 0.0, env=env),
            redis_url=env_str(REDIS_URL, env=env),
            card_fingerprint_key=env_str(CARD_FINGERPRINT_KEY, "", env=env),
            card_fingerprint_secret_arn=env_str(CARD_FINGERPRINT_SECRET_ARN, "", env=env),
            limits=parse_limits(env_str(LIMITS_ENV, "", env=env)),
        ).checked()

    def checked(self) -> Settings:
        """Return self if the service credential can be found one way or the other."""
        if not self.internal_token and not self.internal_token_secret_arn:
            raise SettingsError(f"set {INTERNAL_TOKEN} or {INTERNAL_TOKEN_SECRET_ARN}")
        return self
