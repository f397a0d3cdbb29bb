"""The steps travellers take over the public API, each recorded under its route's name."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol
from urllib.parse import urlencode

import gevent

from loadtests import names

TERMINAL = frozenset({"confirmed", "failed", "cancelled"})
CARDS = {"ok": "4242424242424242", "declined": "4000000000000002",
         "transient": "4000000000000119"}


class Traveller(Protocol):
    """What a step needs from a locust user: its client, token, dice, catalog and events."""

    client: Any
    environment: Any
    token: str
    rng: Any
    contact: dict[str, str]
    confirm_deadline_s: float


class Failed(Exception):
    """A step got an answer the traveller cannot go on from; its request is already recorded."""


def _auth(t: Traveller, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t.token}", **more}


def _problem(resp: Any) -> str:
    try:
        code = resp.json().get("code", "")
    except Exception:  # any body that is not a problem: the status says enough
        code = ""
    return f"{resp.status_code} {code}".strip()


def think(t: Traveller, low: float, high: float) -> None:
    """Pause as a person reading a page would (compressed: see loadtests/README.md)."""
    gevent.sleep(t.rng.uniform(low, high))


def _get(t: Traveller, path: str, name: str, params: dict[str, Any] | None = None) -> Any:
    url = f"{path}?{urlencode(params)}" if params else path
    with t.client.get(url, name=name, headers=_auth(t), catch_response=True) as resp:
        if resp.status_code != 200:
            resp.failure(_problem(resp))
            raise Failed(name)
        return resp.json()


def search_flights(t: Traveller, route: Any, *, passengers: int = 1, cabin: str = "economy",
                   sort: str = "departure") -> list[dict[str, Any]]:
    """Search one route and day of the catalog; return the offers."""
    page = _get(t, names.FLIGHTS, names.FLIGHTS, {
        "origin": route.origin, "destination": route.destination, "date": route.date,
        "passengers": passengers, "cabin": cabin, "sort": sort})
    return list(page["items"])


def flight_details(t: Traveller, flight_id: str) -> dict[str, Any]:
    """Open one flight with its live availability."""
    return dict(_get(t, f"{names.FLIGHTS}/{flight_id}", names.FLIGHT))


def search_hotels(t: Traveller, city: str, check_in: str, check_out: str, guests: int
                  ) -> list[dict[str, Any]]:
    """Search a city's hotels for a stay; return the offers."""
    page = _get(t, names.HOTELS, names.HOTELS, {
        "city": city, "check_in": check_in, "check_out": check_out, "guests": guests})
    return list(page["items"])


def hotel_details(t: Traveller, hotel_id: str, check_in: str, check_out: str, guests: int
                  ) -> dict[str, Any]:
    """Open one hotel with its nights for a stay."""
    return dict(_get(t, f"{names.HOTELS}/{hotel_id}", names.HOTEL, {
        "check_in": check_in, "check_out": check_out, "guests": guests}))


def hold(t: Traveller, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Hold the items; return the hold, or None when they sold out (an expected answer)."""
    with t.client.post(names.HOLDS, name=names.HOLDS, headers=_auth(t), json={"items": items},
                       catch_response=True) as resp:
        if resp.status_code == 201:
            return dict(resp.json())
        if resp.status_code == 409 and _problem(resp) == "409 sold_out":
            # Another traveller was quicker: the system said so correctly. Counted apart.
            resp.request_meta["name"] = names.HOLDS_SOLD_OUT
            resp.success()
            return None
        resp.failure(_problem(resp))
        raise Failed(names.HOLDS)


def _start_booking(t: Traveller, body: dict[str, Any], key: str, name: str) -> str:
    with t.client.post(names.BOOKINGS, name=name, json=body, catch_response=True,
                       headers=_auth(t, **{"Idempotency-Key": key})) as resp:
        # 409 hold_already_booked is never expected: each key books its own hold once.
        if resp.status_code not in (200, 202):
            resp.failure(_problem(resp))
            raise Failed(name)
        return str(resp.json()["booking_id"])


def _record(t: Traveller, name: str, started: float, error: str | None) -> None:
    t.environment.events.request.fire(
        request_type=names.BOOKING, name=name, response_time=(time.perf_counter() - started)
        * 1000, response_length=0, exception=Failed(error) if error else None, context={})


def wait_for(t: Traveller, booking_id: str, *, until: frozenset[str] = TERMINAL
             ) -> dict[str, Any] | None:
    """Poll the booking as an app does until its status is in *until*; None at the deadline."""
    deadline = time.monotonic() + t.confirm_deadline_s
    pause = 0.25
    while True:
        booking = _get(t, f"{names.BOOKINGS}/{booking_id}", names.BOOKING_BY_ID)
        if booking["status"] in until:
            return dict(booking)
        if time.monotonic() > deadline:
            return None
        gevent.sleep(pause)
        pause = min(1.0, pause * 1.5)


def book(t: Traveller, hold_id: str, *, card: str = "ok", expect: str = "confirmed",
         name: str = names.CONFIRMED, retry_post: bool = False) -> dict[str, Any] | None:
    """Check the hold out with a fresh key and record the time until the expected outcome.

    With *retry_post* the client sends the same request again, as an app does after a timeout:
    the answer must be the same booking, or the retry would have doubled it.
    """
    key = uuid.uuid4().hex
    body = {"hold_id": hold_id, "payment": {"card_number": CARDS[card]},
            "contact": t.contact}
    started = time.perf_counter()
    booking_id = _start_booking(t, body, key, names.BOOKINGS)
    if retry_post and _start_booking(t, body, key, names.BOOKINGS_RETRY) != booking_id:
        _record(t, name, started, "a retry with the same key made a second booking")
        return None
    try:
        booking = wait_for(t, booking_id)
    except Failed:
        _record(t, name, started, "could not read the booking")
        raise
    if booking is None:
        _record(t, name, started, f"not terminal after {t.confirm_deadline_s:g} s")
    elif booking["status"] != expect:
        _record(t, name, started, f"{booking['status']} ({booking.get('failure_reason')}), "
                                  f"expected {expect}")
    else:
        _record(t, name, started, None)
    return booking


def cancel(t: Traveller, booking_id: str) -> None:
    """Cancel a confirmed booking and record the time until it is `cancelled`."""
    started = time.perf_counter()
    path = f"{names.BOOKINGS}/{booking_id}/cancel"
    with t.client.post(path, name=names.CANCEL, headers=_auth(t), catch_response=True) as resp:
        if resp.status_code != 202:
            resp.failure(_problem(resp))
            _record(t, names.CANCELLED, started, f"cancel answered {resp.status_code}")
            return
    booking = wait_for(t, booking_id, until=frozenset({"cancelled"}))
    _record(t, names.CANCELLED, started, None if booking else
            f"not cancelled after {t.confirm_deadline_s:g} s")


def list_bookings(t: Traveller) -> None:
    """Open the list of one's bookings, as a traveller does after paying."""
    _get(t, names.BOOKINGS, names.BOOKINGS, {"limit": 10})


@contextmanager
def journey(t: Traveller, name: str) -> Iterator[None]:
    """Record one whole journey (JOURNEY type) so that arrivals are measured, failed or not."""
    started = time.perf_counter()
    try:
        yield
    except Failed:
        pass  # the failing request is in the stats already; the journey still happened
    finally:
        t.environment.events.request.fire(
            request_type=names.JOURNEY, name=name,
            response_time=(time.perf_counter() - started) * 1000, response_length=0,
            exception=None, context={})
