"""The limits on booking and paying (card testing), and what checkout tells the hold ledger."""

from __future__ import annotations

from collections.abc import Callable

from itinera.limits.gcra import RateLimiter
from itinera.limits.holdings import HoldLedger
from itinera.limits.metrics import put_refusal
from itinera.limits.policies import Limits, Policy, Rate, refusal


class BookingLimits:
    """Booking attempts and declines per traveller and per card, in the shared Redis."""

    def __init__(self, limiter: RateLimiter, ledger: HoldLedger, limits: Limits, *,
                 refused: Callable[[Policy], None] | None = None) -> None:
        self.limiter = limiter
        self.ledger = ledger
        self.limits = limits
        self.refused = refused or (lambda p: put_refusal(p.name, service="checkout"))

    async def admit_traveller(self, customer_id: str) -> None:
        """Spend one of the traveller's booking attempts; refuse past it or their declines."""
        await self._take("booking-attempts", customer_id)
        await self._look("declines", customer_id)

    async def admit_card(self, card_fingerprint: str) -> None:
        """Spend one of the card's booking attempts; refuse past it or the card's declines."""
        await self._take("card-attempts", card_fingerprint)
        await self._look("card-declines", card_fingerprint)

    async def declined(self, customer_id: str, card_fingerprint: str) -> None:
        """Count one decline against the traveller and, when known, the card."""
        # Spent, whatever the answer: the next booking attempt is the one refused.
        await self.limiter.take(self.limits.rate("declines"), customer_id)
        if card_fingerprint:
            await self.limiter.take(self.limits.rate("card-declines"), card_fingerprint)

    async def settled(self, customer_id: str, hold_id: str) -> None:
        """Stop counting a hold its booking confirmed (now sold) or gave back."""
        await self.ledger.release(customer_id, hold_id)

    async def _take(self, name: str, key: str) -> None:
        policy = self.limits.rate(name)
        decision = await self.limiter.take(policy, key)
        if not decision.allowed:
            raise self._refuse(policy, decision.retry_after)

    async def _look(self, name: str, key: str) -> None:
        policy = self.limits.rate(name)
        decision = await self.limiter.peek(policy, key)
        if not decision.allowed:
            raise self._refuse(policy, decision.retry_after)

    def _refuse(self, policy: Rate, retry_after: int) -> Exception:
        self.refused(policy)
        return refusal(policy, retry_after=retry_after)
