"""Each internal route admits only the service it serves, by that service's own token."""

from __future__ import annotations

from typing import Any

GATEWAY = {"X-Service-Token": "gateway-token", "X-Customer-Id": "alice"}
CHECKOUT = {"X-Service-Token": "checkout-token", "X-Customer-Id": "alice"}
HOLD = "0" * 32


async def test_each_caller_reaches_its_own_routes_only(start_client: Any,
                                                       make_flight: Any) -> None:
    """The gateway's token holds but cannot pin, confirm or release; checkout's can, but it
    cannot hold, release for a traveller or touch the catalog; a token of neither is 401."""
    flight_id = await make_flight(economy=5)
    body = {"items": [{"kind": "flight", "flight_id": str(flight_id), "cabin": "economy",
                       "quantity": 1}]}
    async with start_client(gateway_token="gateway-token",
                            checkout_token="checkout-token") as client:
        refused = await client.post("/internal/holds", json=body, headers=CHECKOUT)
        assert refused.status == 403
        created = await client.post("/internal/holds", json=body, headers=GATEWAY)
        assert created.status == 201
        hold_id = (await created.json())["id"]
        ref = {"booking_id": "b" * 32}
        for path in ("pin", "confirm", "release", "cancel"):
            resp = await client.post(f"/internal/holds/{hold_id}/{path}", json=ref,
                                     headers=GATEWAY)
            assert resp.status == 403, path
        for headers in (GATEWAY, CHECKOUT):
            assert (await client.get(f"/internal/holds/{hold_id}", headers=headers)).status == 200
        assert (await client.delete(f"/internal/holds/{hold_id}", headers=CHECKOUT)).status == 403
        admin = await client.get("/internal/admin/holds", headers={**CHECKOUT, "X-Admin": "true"})
        assert admin.status == 403
        stranger = await client.get(f"/internal/holds/{HOLD}", headers={
            "X-Service-Token": "guessed", "X-Customer-Id": "alice"})
        assert stranger.status == 401
        pinned = await client.post(f"/internal/holds/{hold_id}/pin", json=ref, headers=CHECKOUT)
        assert pinned.status == 200
