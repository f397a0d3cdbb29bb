"""The booking API's domain: start a checkout, read bookings, owner checks."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import orjson

from checkout.idempotency import IdempotencyStore, StoredResponse, payload_hash
from checkout.inventory import InventoryClient
from checkout.limits import BookingLimits
from checkout.model import CANCELLED, CANCELLING, CONFIRMED, PENDING, Booking
from checkout.payments import PaymentMethod, PaymentProvider
from checkout.repository import BookingRepository, TransitionRefused
from checkout.saga import utcnow
from itinera import tracing
from itinera.api.bookings import BookingRequest
from itinera.api.errors import InvalidCursor
from itinera.errors import Conflict, HoldInCheckout, HoldNotActive, NotFound

log = logging.getLogger("checkout.service")
# Deterministic booking ids: a retry after a crash finds the booking it already created.
BOOKING_NAMESPACE = uuid.UUID("8c1d4c5e-5a0b-4c59-9a49-2f1f0f6c7a10")


class HoldAlreadyBooked(Conflict):
    code, title = "hold_already_booked", "Another booking already pays for this hold"


class NotCancellable(Conflict):
    code, title = "booking_not_cancellable", "Only a confirmed booking can be cancelled"


class CheckoutService:
    """Start checkouts and answer booking reads for their owners."""

    def __init__(self, *, bookings: BookingRepository, idempotency: IdempotencyStore,
                 inventory: InventoryClient, payments: PaymentProvider, limits: BookingLimits,
                 sqs: Any, queue_url: str) -> None:
        self.bookings = bookings
        self.limits = limits
        self.idempotency = idempotency
        self.inventory = inventory
        self.payments = payments
        self.sqs = sqs
        self.queue_url = queue_url

    async def start_checkout(self, customer_id: str, idempotency_key: str,
                             request: BookingRequest) -> StoredResponse:
        """Create a pending booking for the customer's hold and queue the saga, once per key."""
        stored = await self.idempotency.begin(customer_id, idempotency_key,
                                              payload_hash(request.model_dump(mode="json")))
        if stored is not None:
            return stored
        try:
            # Only a new checkout spends the budgets, never the replay of an answered one.
            await self.limits.admit_traveller(customer_id)
            # Tokenized first, so the card's own budgets can be checked by its fingerprint.
            method = await self.payments.tokenize(request.payment.card_number)
            await self.limits.admit_card(method.fingerprint)
            response = await self._create(customer_id, idempotency_key, request.hold_id,
                                          method, request.contact.email, request.contact.name)
        except BaseException:
            await self.idempotency.abandon(customer_id, idempotency_key)
            raise
        await self.idempotency.complete(customer_id, idempotency_key, response)
        return response

    async def _create(self, customer_id: str, key: str, hold_id: str, method: PaymentMethod,
                      email: str, name: str) -> StoredResponse:
        booking_id = uuid.uuid5(BOOKING_NAMESPACE, f"{customer_id}#{key}").hex
        hold = await self.inventory.get_hold(hold_id, customer_id=customer_id)
        # Only a retry of this very checkout finds its own booking id on the hold; the usual
        # first attempt skips the read.
        booking = await self.bookings.get(booking_id) if hold.booking_id == booking_id else None
        if booking is None:
            # Who pays comes before the status, so a hold another booking pays for is "already
            # booked" whether or not the worker has confirmed it yet.
            if hold.booking_id not in (None, booking_id) and \
                    hold.status in ("active", "confirmed"):
                raise HoldAlreadyBooked(f"hold {hold_id} is paid for by another booking")
            if hold.status != "active":
                raise HoldNotActive(f"hold {hold_id} is {hold.status}")
            await self._claim_hold(hold_id, booking_id)
            await self._pin(hold_id, booking_id, customer_id)
            now = utcnow()
            booking = Booking(
                booking_id=booking_id, customer_id=customer_id, hold_id=hold_id,
                status=PENDING, amount=hold.total.amount, currency=hold.total.currency,
                items=hold.items,
                contact_email=email, contact_name=name, payment_method=method.token,
                created_at=now, updated_at=now)
            if not await self.bookings.create(booking):
                stored = await self.bookings.get(booking_id)
                assert stored is not None
                booking = stored
        # Sent again on a retry: the saga is idempotent, a lost message is worse than two.
        await self.enqueue(booking_id)
        return StoredResponse(status=202, body=booking.view())

    async def _claim_hold(self, hold_id: str, booking_id: str) -> None:
        # One hold, one booking: a second checkout (another Idempotency-Key) for the same
        # hold would charge the card and then have to refund it.
        holder = await self.idempotency.claim_hold(hold_id, booking_id)
        if holder == booking_id:
            return
        if await self.bookings.get(holder) is None and \
                await self.idempotency.take_over_hold(hold_id, holder, booking_id):
            return  # the holder died before writing its booking
        raise HoldAlreadyBooked(f"hold {hold_id} is being paid by booking {holder}")

    async def _pin(self, hold_id: str, booking_id: str, customer_id: str) -> None:
        # Inventory learns who pays, so the traveller's release and a stale booking's
        # compensation are refused from now on; a hold released meanwhile is hold_not_active.
        try:
            await self.inventory.pin_hold(hold_id, booking_id=booking_id, customer_id=customer_id)
        except HoldInCheckout as exc:
            # Pinned by a claimant we took over from, which did not die after all.
            raise HoldAlreadyBooked(f"hold {hold_id} is being paid by another booking") from exc

    async def enqueue(self, booking_id: str) -> None:
        """Ask the worker to advance the booking, carrying this request's id and trace."""
        carried: dict[str, Any] = {}
        if attributes := tracing.message_attributes():
            carried["MessageAttributes"] = attributes
        if system := tracing.system_attributes():
            carried["MessageSystemAttributes"] = system
        await self.sqs.send_message(QueueUrl=self.queue_url,
                                    MessageBody=orjson.dumps({"booking_id": booking_id}).decode(),
                                    **carried)
        log.info("booking queued for the worker", extra={"booking_id": booking_id})

    async def cancel_booking(self, customer_id: str, booking_id: str) -> dict[str, Any]:
        """Start cancelling the customer's confirmed booking; repeating it changes nothing."""
        booking = await self._owned(customer_id, booking_id)
        if booking.status == CONFIRMED:
            try:
                booking = await self.bookings.transition(booking_id, CANCELLING, now=utcnow())
            except TransitionRefused:
                booking = await self._owned(customer_id, booking_id)
        if booking.status == CANCELLING:
            await self.enqueue(booking_id)
        elif booking.status != CANCELLED:
            raise NotCancellable(f"booking {booking_id} is {booking.status}")
        return booking.view()

    async def _owned(self, customer_id: str, booking_id: str) -> Booking:
        if not re.fullmatch(r"[0-9a-f]{32}", booking_id):
            raise NotFound(f"booking {booking_id} not found")
        booking = await self.bookings.get(booking_id)
        if booking is None or booking.customer_id != customer_id:
            raise NotFound(f"booking {booking_id} not found")
        return booking

    async def get_booking(self, customer_id: str, booking_id: str) -> dict[str, Any]:
        """Return the customer's booking; someone else's is not found."""
        return (await self._owned(customer_id, booking_id)).view()

    async def list_bookings(self, customer_id: str, *, limit: int,
                            cursor: str | None) -> dict[str, Any]:
        """Return one page of the customer's bookings, newest first."""
        try:
            page, next_cursor = await self.bookings.list_for_customer(customer_id, limit=limit,
                                                                      cursor=cursor)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc
        return {"items": [b.view() for b in page], "next_cursor": next_cursor}
