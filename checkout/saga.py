"""The booking saga: charge, confirm the hold, confirm the booking, announce it."""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any, Protocol

from checkout.events import EVENT_TYPES, event_for, message_attributes
from checkout.inventory import InventoryClient
from checkout.model import CANCELLED, CANCELLING, CONFIRMED, FAILED, PENDING, TERMINAL, Booking
from checkout.payments import PaymentDeclined, PaymentProvider
from checkout.repository import BookingRepository, TransitionRefused
from itinera import tracing
from itinera.api.events import BookingEvent
from itinera.errors import Conflict, NotFound

log = logging.getLogger("checkout.saga")


class Publisher(Protocol):
    """Where booking events go (SNS on AWS and on the local stack)."""

    async def publish(self, event: BookingEvent) -> None:
        """Publish one event."""
        ...


class SnsPublisher:
    """Publish booking events to the SNS topic with filterable attributes."""

    def __init__(self, sns: Any, topic_arn: str) -> None:
        self.sns = sns
        self.topic_arn = topic_arn

    async def publish(self, event: BookingEvent) -> None:
        """Publish *event* as JSON."""
        await self.sns.publish(TopicArn=self.topic_arn, Message=event.model_dump_json(),
                               MessageAttributes={**message_attributes(event),
                                                  **tracing.message_attributes()})


class Outcomes(Protocol):
    """Who else learns how a booking ended: the abuse limits (checkout/limits.py)."""

    async def declined(self, customer_id: str, card_fingerprint: str) -> None:
        """Count a declined card against its traveller and the card."""
        ...

    async def settled(self, customer_id: str, hold_id: str) -> None:
        """The booking's hold is no longer held for it (sold or given back)."""
        ...


class UnknownBooking(Exception):
    """A checkout message names a booking that does not exist."""


class PublishInProgress(Exception):
    """Another delivery is publishing this event; retry later to make sure it went out."""


# A publisher that claimed an event and died frees it after this long.
PUBLISH_CLAIM_SECONDS = 30


def utcnow() -> str:
    """Return the current time as ISO 8601 UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BookingSaga:
    """Drive one booking to a terminal status; every step may safely run again."""

    def __init__(self, *, bookings: BookingRepository, payments: PaymentProvider,
                 inventory: InventoryClient, publisher: Publisher,
                 outcomes: Outcomes | None = None) -> None:
        self.bookings = bookings
        self.payments = payments
        self.inventory = inventory
        self.publisher = publisher
        # None where a test drives the saga alone, without the limits' Redis.
        self.outcomes = outcomes

    async def run(self, booking_id: str) -> Booking:
        """Advance the booking as far as it goes; transient faults raise for a retry."""
        booking = await self.bookings.get(booking_id)
        if booking is None:
            raise UnknownBooking(booking_id)
        claimed = False
        if booking.status == PENDING:
            booking, claimed = await self._settle(booking)
            if claimed and self.outcomes is not None:
                # Once, by the delivery that moved it: a redelivery does not count it again.
                await self.outcomes.settled(booking.customer_id, booking.hold_id)
        elif booking.status == CANCELLING:
            booking, claimed = await self._cancel(booking)
        if booking.status in TERMINAL:
            await self._announce(booking, claimed=claimed)
        return booking

    async def _settle(self, booking: Booking) -> tuple[Booking, bool]:
        try:
            # The booking id is the payment's idempotency key: a redelivery never charges twice.
            charge = await self.payments.charge(
                idempotency_key=booking.booking_id, amount=booking.amount,
                currency=booking.currency, payment_method=booking.payment_method)
        except PaymentDeclined as declined:
            if self.outcomes is not None:
                # Before the booking reads `failed`: whoever sees it failed sees it counted. A
                # crash before the move counts it again on the retry, erring towards the card.
                await self.outcomes.declined(booking.customer_id, declined.card_fingerprint)
            # Refused only if another booking pays for the hold now: not ours to give back.
            with contextlib.suppress(Conflict):
                await self.inventory.release_hold(booking.hold_id, booking_id=booking.booking_id)
            return await self._move(booking, FAILED, failure_reason="payment_declined")
        # The capture is not written to the booking before confirming: a redelivery charges
        # again under the same key and gets this capture back, so one write per booking less.
        try:
            await self.inventory.confirm_hold(booking.hold_id, booking_id=booking.booking_id)
        except (Conflict, NotFound):
            # The hold expired or was released before we could confirm: give the money back.
            await self.payments.refund(payment_id=charge.payment_id)
            return await self._move(booking, FAILED, failure_reason="hold_expired",
                                    payment_id=charge.payment_id)
        return await self._move(booking, CONFIRMED, payment_id=charge.payment_id)

    async def _cancel(self, booking: Booking) -> tuple[Booking, bool]:
        # Refund first: a traveller who cancelled must get the money back even if inventory
        # is down; the seats follow on the retry.
        if booking.payment_id:
            await self.payments.refund(payment_id=booking.payment_id)
        await self.inventory.cancel_hold(booking.hold_id, booking_id=booking.booking_id)
        return await self._move(booking, CANCELLED)

    async def _move(self, booking: Booking, target: str, **fields: str
                    ) -> tuple[Booking, bool]:
        """Move the booking; return it and whether this delivery moved it (and so claimed its
        event: the claim is written with the move, one write instead of two)."""
        try:
            moved = await self.bookings.transition(
                booking.booking_id, target, now=utcnow(),
                claim=(EVENT_TYPES[target], int(time.time())), **fields)
        except TransitionRefused:
            # A concurrent delivery got there first; its result stands.
            current = await self.bookings.get(booking.booking_id)
            assert current is not None
            return current, False
        log.info("booking settled", extra={"booking_id": booking.booking_id, "status": target})
        return moved, True

    async def _announce(self, booking: Booking, *, claimed: bool) -> None:
        event_type = EVENT_TYPES[booking.status]
        if event_type in booking.published:
            return
        # One delivery claims the event; a concurrent twin backs off and retries until the
        # event is marked published, so a claim by a crashed worker never loses the event.
        if not claimed and not await self.bookings.claim_publish(
                booking.booking_id, event_type, now=int(time.time()),
                stale_after=PUBLISH_CLAIM_SECONDS):
            raise PublishInProgress(f"{event_type} of {booking.booking_id} is being published")
        # Publish before marking: a crash in between republishes the same event id,
        # which the notifier drops; the reverse order could lose the event.
        await self.publisher.publish(event_for(booking, occurred_at=booking.updated_at))
        await self.bookings.mark_published(booking.booking_id, event_type)
