"""Pure pieces of checkout: settings, state machine, events and cards."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from checkout.events import event_for, message_attributes
from checkout.idempotency import payload_hash
from checkout.model import CANCELLED, CANCELLING, CONFIRMED, FAILED, PENDING, Booking, can_move
from checkout.payments import luhn_valid
from checkout.settings import Settings
from itinera.api.holds import HeldFlight
from itinera.api.types import Money
from itinera.settings import SettingsError

ENV = {"BOOKINGS_TABLE": "b", "IDEMPOTENCY_TABLE": "i", "PAYMENTS_TABLE": "p",
       "CHECKOUT_QUEUE_URL": "q", "BOOKING_EVENTS_TOPIC_ARN": "t",
       "INVENTORY_URL": "http://inventory", "INTERNAL_TOKEN": "secret",
       "REDIS_URL": "redis://limits:6379/1"}


def _booking(status: str = CONFIRMED) -> Booking:
    item = HeldFlight.model_validate({"kind": "flight", "flight_id": "7", "cabin": "economy",
                                      "quantity": 2,
                                      "unit_price": {"amount": 6172, "currency": "EUR"}})
    return Booking(booking_id="b" * 32, customer_id="alice", hold_id="f" * 32, status=status,
                   amount=12345, currency="EUR", items=[item],
                   contact_email="a@example.com", contact_name="Alice", payment_method="pm_1",
                   created_at="2026-11-27T09:00:00.000Z", updated_at="2026-11-27T09:00:01.000Z")


def test_settings_read_the_template_variables() -> None:
    """Settings come from the variables the SAM template sets, with a latency default."""
    settings = Settings.from_env(ENV)
    assert settings.bookings_table == "b" and settings.inventory_url == "http://inventory"
    assert settings.payment_latency_ms == 0.0
    assert settings.limits.rate("booking-attempts").count == 10  # the production default
    tighter = Settings.from_env({**ENV, "LIMITS": "booking-attempts=3/1h"})
    assert tighter.limits.rate("booking-attempts").count == 3


def test_the_card_fingerprint_key_comes_from_the_environment_or_a_secret() -> None:
    """The local stack hands the key over; on AWS the API function names its secret, and the
    worker, which tokenizes nothing, has neither and still starts."""
    assert Settings.from_env({**ENV, "CARD_FINGERPRINT_KEY": "k"}).card_fingerprint_key == "k"
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:itinera-card"
    on_aws = Settings.from_env({**ENV, "CARD_FINGERPRINT_SECRET_ARN": arn})
    assert (on_aws.card_fingerprint_key, on_aws.card_fingerprint_secret_arn) == ("", arn)
    assert Settings.from_env(ENV).card_fingerprint_key == ""


def test_settings_name_the_missing_variable() -> None:
    """A missing variable is an error that names it."""
    env = dict(ENV)
    del env["CHECKOUT_QUEUE_URL"]
    with pytest.raises(SettingsError, match="CHECKOUT_QUEUE_URL"):
        Settings.from_env(env)


def test_settings_take_the_credential_from_a_secret_on_aws() -> None:
    """Without INTERNAL_TOKEN the secret's ARN is enough; with neither it is an error."""
    env = {k: v for k, v in ENV.items() if k != "INTERNAL_TOKEN"}
    with pytest.raises(SettingsError, match="INTERNAL_TOKEN"):
        Settings.from_env(env)
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:itinera-internal"
    settings = Settings.from_env({**env, "INTERNAL_TOKEN_SECRET_ARN": arn})
    assert settings.internal_token == "" and settings.internal_token_secret_arn == arn


def test_state_machine_never_moves_backwards() -> None:
    """Only pending settles, only confirmed starts cancelling; terminal states stay put."""
    assert can_move(PENDING, CONFIRMED) and can_move(PENDING, FAILED)
    assert can_move(CONFIRMED, CANCELLING) and can_move(CANCELLING, CANCELLED)
    assert not can_move(CONFIRMED, CANCELLED)
    assert not can_move(CANCELLING, CONFIRMED)
    assert not can_move(CONFIRMED, FAILED)
    assert not can_move(FAILED, CONFIRMED)
    assert not can_move(CANCELLED, CONFIRMED)
    assert not can_move(PENDING, CANCELLED)


def test_booking_event_is_deterministic_and_filterable() -> None:
    """The event id depends only on booking and type, and the type is a message attribute."""
    first = event_for(_booking(), occurred_at="t1")
    again = event_for(_booking(), occurred_at="t2")
    assert first.event_id == again.event_id == "b" * 32 + ":booking.confirmed"
    assert first.booking.total == Money(amount=12345, currency="EUR")
    assert message_attributes(first) == {
        "event_type": {"DataType": "String", "StringValue": "booking.confirmed"}}
    assert event_for(_booking(FAILED), occurred_at="t").event_type == "booking.failed"


def test_only_a_terminal_booking_has_an_event() -> None:
    """A pending booking announces nothing: building its event is refused."""
    with pytest.raises(ValidationError):
        event_for(_booking(PENDING), occurred_at="t")


def test_booking_view_shows_money_in_minor_units() -> None:
    """The traveller's view carries the total as integer minor units and a currency."""
    view = _booking().view()
    assert view["total"] == {"amount": 12345, "currency": "EUR"}
    assert "payment_method" not in view and "customer_id" not in view


def test_luhn_accepts_test_cards_and_refuses_typos() -> None:
    """The three test cards pass the Luhn check; a changed digit fails it."""
    for card in ("4242424242424242", "4000000000000002", "4000000000000119"):
        assert luhn_valid(card)
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("4242")
    assert not luhn_valid("42424242424242a2")


def test_payload_hash_ignores_key_order() -> None:
    """The same body in another key order hashes the same; another body does not."""
    assert payload_hash({"a": 1, "b": [1, 2]}) == payload_hash({"b": [1, 2], "a": 1})
    assert payload_hash({"a": 1}) != payload_hash({"a": 2})
