"""The limits on holding: a budget of holds, of re-holds per flight or hotel, and caps on what a
traveller holds at once, checked before inventory is asked and settled after it answered."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import orjson
from aiohttp import web

from itinera.api.holds import FlightItem, HoldRequest
from itinera.errors import LimitExceeded
from itinera.limits.gcra import RateLimiter
from itinera.limits.holdings import HeldItems, HoldLedger, Reservation, held_items
from itinera.limits.policies import Limits, Policy, refusal

log = logging.getLogger("gateway.hold_limits")


def items_of(request: HoldRequest) -> HeldItems:
    """Return the seats per flight and rooms per hotel night *request* asks to hold."""
    flights = [(i.flight_id, i.quantity) for i in request.items if isinstance(i, FlightItem)]
    stays = [(i.hotel_id, i.check_in, i.check_out, i.rooms) for i in request.items
             if not isinstance(i, FlightItem)]
    return held_items(flights, stays)


def item_budgets(customer: str, request: HoldRequest) -> list[str]:
    """Return the keys of the re-hold budgets *request* spends: one per flight or hotel."""
    keys = {f"{customer}:flight:{i.flight_id}" if isinstance(i, FlightItem)
            else f"{customer}:hotel:{i.hotel_id}" for i in request.items}
    return sorted(keys)


class HoldGuard:
    """Refuse a hold past its traveller's limits; count the holds inventory made."""

    def __init__(self, limiter: RateLimiter, ledger: HoldLedger, limits: Limits, *,
                 refused: Callable[[Policy], None]) -> None:
        self.limiter = limiter
        self.ledger = ledger
        self.limits = limits
        self.refused = refused

    def _refuse(self, policy: Policy, retry_after: int) -> LimitExceeded:
        self.refused(policy)
        return refusal(policy, retry_after=retry_after)

    async def create(self, customer: str, request: HoldRequest, idempotency_key: str | None,
                     make: Callable[[], Awaitable[web.Response]]) -> web.Response:
        """Return inventory's answer to *make* if *customer* may hold what *request* asks."""
        holds = self.limits.rate("holds")
        decision = await self.limiter.take(holds, customer)
        if not decision.allowed:
            raise self._refuse(holds, decision.retry_after)
        alias = idempotency_key or ""
        reservation = await self.ledger.reserve(customer, f"reserved:{uuid.uuid4().hex}",
                                                items_of(request), alias=alias)
        if not reservation.granted:
            assert reservation.refused_by is not None
            raise self._refuse(reservation.refused_by, reservation.retry_after)
        spent = [] if reservation.replay else await self._spend_item_budgets(
            customer, request, reservation)
        made = False
        try:
            response = await make()
            made = response.status == 201
            if made:
                await self._commit(customer, reservation, response, alias)
            return response
        finally:
            if not made:
                await self._undo(customer, reservation, spent)

    async def _spend_item_budgets(self, customer: str, request: HoldRequest,
                                  reservation: Reservation) -> list[str]:
        policy = self.limits.rate("item-holds")
        spent: list[str] = []
        for key in item_budgets(customer, request):
            decision = await self.limiter.take(policy, key)
            if not decision.allowed:
                await self._undo(customer, reservation, spent)
                raise self._refuse(policy, decision.retry_after)
            spent.append(key)
        return spent

    async def _commit(self, customer: str, reservation: Reservation, response: web.Response,
                      alias: str) -> None:
        try:
            hold = orjson.loads(response.body)  # type: ignore[arg-type]
            hold_id = str(hold["id"])
            expires = datetime.fromisoformat(hold["expires_at"]).astimezone(UTC).timestamp()
        except (TypeError, KeyError, ValueError, orjson.JSONDecodeError):
            # Inventory made the hold: the traveller gets it; only the count lapses early.
            log.warning("a hold answer without id or expiry; its reservation will lapse",
                        extra={"customer": customer})
            return
        await self.ledger.commit(customer, reservation, hold_id,
                                 expires_in=expires - time.time(), alias=alias)

    async def _undo(self, customer: str, reservation: Reservation, spent: list[str]) -> None:
        # Inventory made no hold: nothing is held, and no flight or hotel was re-held.
        if not reservation.replay:
            await self.ledger.release(customer, reservation.member)
        for key in spent:
            await self.limiter.refund(self.limits.rate("item-holds"), key)

    async def released(self, customer: str, hold_id: str) -> None:
        """Stop counting a hold its traveller released."""
        await self.ledger.release(customer, hold_id)
