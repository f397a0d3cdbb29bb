"""Checkout's view of the inventory service's internal hold API."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from itinera.api.holds import Hold
from itinera.errors import DependencyUnavailable
from itinera.http import ServiceClient
from itinera.web import CUSTOMER_HEADER

log = logging.getLogger("checkout.inventory")


class InventoryClient:
    """Read, pin, confirm and release holds over HTTP with the service credential."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_hold(self, hold_id: str, *, customer_id: str) -> Hold:
        """Return the customer's hold; another customer's hold is `NotFound`."""
        return await self._hold("GET", f"/internal/holds/{hold_id}",
                                headers={CUSTOMER_HEADER: customer_id})

    async def pin_hold(self, hold_id: str, *, booking_id: str, customer_id: str) -> Hold:
        """Tie the customer's active hold to the booking about to pay for it; idempotent."""
        return await self._hold("POST", f"/internal/holds/{hold_id}/pin",
                                json={"booking_id": booking_id},
                                headers={CUSTOMER_HEADER: customer_id})

    async def confirm_hold(self, hold_id: str, *, booking_id: str) -> Hold:
        """Turn the held seats into sold ones; the same booking id again is a no-op."""
        return await self._hold("POST", f"/internal/holds/{hold_id}/confirm",
                                json={"booking_id": booking_id})

    async def release_hold(self, hold_id: str, *, booking_id: str) -> Hold:
        """Give the held seats back unless another booking pays for them; twice is a no-op."""
        return await self._hold("POST", f"/internal/holds/{hold_id}/release",
                                json={"booking_id": booking_id})

    async def cancel_hold(self, hold_id: str, *, booking_id: str) -> Hold:
        """Give a confirmed hold's sold seats back; cancelling twice is a no-op."""
        return await self._hold("POST", f"/internal/holds/{hold_id}/cancel",
                                json={"booking_id": booking_id})

    async def _hold(self, method: str, path: str, **options: Any) -> Hold:
        answer = await self.client.call(method, path, **options)
        try:
            return Hold.model_validate(answer)
        except ValidationError as exc:
            # Inventory answered outside the contract: a fault of that dependency, like a
            # body that is not JSON, so the caller gets a 503 and the worker retries.
            log.error("inventory answered a hold outside the contract",
                      extra={"path": path, "errors": exc.errors(include_input=False,
                                                               include_url=False)})
            raise DependencyUnavailable("the inventory service answered something other "
                                        "than a hold") from exc
