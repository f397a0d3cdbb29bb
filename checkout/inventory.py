"""Checkout's view of the inventory service's internal hold API."""

from __future__ import annotations

from typing import Any

from itinera.http import ServiceClient
from itinera.web import CUSTOMER_HEADER


class InventoryClient:
    """Read, pin, confirm and release holds over HTTP with the service credential."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def get_hold(self, hold_id: str, *, customer_id: str) -> dict[str, Any]:
        """Return the customer's hold; another customer's hold is `NotFound`."""
        return await self.client.call("GET", f"/internal/holds/{hold_id}",
                                      headers={CUSTOMER_HEADER: customer_id})

    async def pin_hold(self, hold_id: str, *, booking_id: str, customer_id: str
                       ) -> dict[str, Any]:
        """Tie the customer's active hold to the booking about to pay for it; idempotent."""
        return await self.client.call("POST", f"/internal/holds/{hold_id}/pin",
                                      json={"booking_id": booking_id},
                                      headers={CUSTOMER_HEADER: customer_id})

    async def confirm_hold(self, hold_id: str, *, booking_id: str) -> dict[str, Any]:
        """Turn the held seats into sold ones; the same booking id again is a no-op."""
        return await self.client.call("POST", f"/internal/holds/{hold_id}/confirm",
                                      json={"booking_id": booking_id})

    async def release_hold(self, hold_id: str, *, booking_id: str) -> dict[str, Any]:
        """Give the held seats back unless another booking pays for them; twice is a no-op."""
        return await self.client.call("POST", f"/internal/holds/{hold_id}/release",
                                      json={"booking_id": booking_id})

    async def cancel_hold(self, hold_id: str, *, booking_id: str) -> dict[str, Any]:
        """Give a confirmed hold's sold seats back; cancelling twice is a no-op."""
        return await self.client.call("POST", f"/internal/holds/{hold_id}/cancel",
                                      json={"booking_id": booking_id})
