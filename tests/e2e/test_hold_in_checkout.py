"""A hold being paid for stays with its booking: no release mid-payment, no second booking."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aioboto3
import aiohttp
import aiomysql
import pytest

from checkout.model import PENDING, Booking
from checkout.payments import SimulatedPaymentProvider
from checkout.repository import BookingRepository
from checkout.saga import utcnow
from checkout.service import BOOKING_NAMESPACE
from itinera.api.holds import Hold
from operations.check import Tables, check
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import (
    auth,
    book,
    cabin_counts,
    find_flight,
    hold_seats,
    wait_for_status,
)

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
TRANSIENT_CARD = "4000000000000119"  # fails twice: the booking stays pending for 1 + 2 s
RACES = 25


@pytest.fixture(scope="module")
async def aws(stack: RunningStack) -> AsyncIterator[dict[str, Any]]:
    """DynamoDB and SQS clients on the stack's emulator."""
    session = aioboto3.Session(region_name=stack.config.region)
    async with contextlib.AsyncExitStack() as exits:
        yield {name: await exits.enter_async_context(session.client(
            name, endpoint_url=stack.config.moto_url, aws_access_key_id="testing",
            aws_secret_access_key="testing")) for name in ("dynamodb", "sqs")}


@pytest.fixture(scope="module")
def dynamodb(aws: dict[str, Any]) -> Any:
    """The emulator's DynamoDB client."""
    return aws["dynamodb"]


@pytest.fixture
def tables(stack: RunningStack) -> Tables:
    """The physical names of the tables `itinera check` reads."""
    d = stack.stack.deployed
    assert d is not None
    return Tables(bookings=d.ref("BookingsTable"), payments=d.ref("PaymentsTable"),
                  notifications=d.ref("NotificationsTable"))


def booking_id_of(customer: str, key: str) -> str:
    """Return the id checkout gives the booking of *customer* under Idempotency-Key *key*."""
    return uuid.uuid5(BOOKING_NAMESPACE, f"{customer}#{key}").hex


async def charges_of(dynamodb: Any, tables: Tables, booking_ids: set[str]
                     ) -> dict[str, list[str]]:
    """Return the statuses of the ledger's charges for each of *booking_ids*."""
    ledger = await SimulatedPaymentProvider(dynamodb, tables.payments).ledger()
    found: dict[str, list[str]] = {b: [] for b in booking_ids}
    for charge in ledger:
        if charge["idempotency_key"] in found:
            found[charge["idempotency_key"]].append(charge["status"])
    return found


async def release(http: aiohttp.ClientSession, stack: RunningStack, token: str,
                  hold_id: str) -> tuple[int, str]:
    """DELETE the hold through the gateway; return the status and the problem code, if any."""
    async with http.delete(f"{stack.url}/v1/holds/{hold_id}", headers=auth(token)) as resp:
        body = await resp.json(content_type=None)
        return resp.status, body.get("code", body.get("status", ""))


async def test_a_release_racing_a_checkout_never_ends_in_a_refund(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool, dynamodb: Any,
        tables: Tables) -> None:
    """Twenty-five DELETE /v1/holds racing POST /v1/bookings on fresh holds (sent together, or
    the DELETE as the 202 arrives): either the release wins and nothing is booked or charged,
    or the checkout wins, the release is 409 and the booking confirms. Never a charge
    refunded because the traveller released."""
    customer = f"uma-{uuid.uuid4().hex[:6]}"
    token = stack.token(customer)
    flight = await find_flight(http, stack.url, seats=9)  # search caps passengers at 9
    while (before := await cabin_counts(db, flight["id"]))["available"] < RACES:
        flight = await find_flight(http, stack.url, seats=9)
    holds = [(await hold_seats(http, stack.url, token, flight["id"], 1))["id"]
             for _ in range(RACES)]

    async def race(hold_id: str, together: bool) -> tuple[str, tuple[int, str],
                                                          tuple[int, str]]:
        key = uuid.uuid4().hex
        checkout = book(http, stack.url, token, hold_id, GOOD_CARD, key=key)
        if together:  # the release races the checkout API
            released, (status, body) = await asyncio.gather(
                release(http, stack, token, hold_id), checkout)
        else:  # the release races the worker, which is charging the card by now
            status, body = await checkout
            released = await release(http, stack, token, hold_id)
        return booking_id_of(customer, key), released, (status, body.get("code", ""))

    outcomes = await asyncio.gather(*(race(h, n % 2 == 0) for n, h in enumerate(holds)))

    release_won = {b for b, r, c in outcomes if r == (200, "released")
                   and c == (409, "hold_not_active")}
    checkout_won = {b for b, r, c in outcomes if c == (202, "") and r[0] == 409
                    and r[1] in ("hold_in_checkout", "hold_not_active")}
    assert len(release_won) + len(checkout_won) == RACES, outcomes
    final = [await wait_for_status(http, stack.url, token, b) for b in checkout_won]
    assert [(b["status"], b.get("failure_reason")) for b in final] == \
        [("confirmed", None)] * len(checkout_won)
    charges = await charges_of(dynamodb, tables, release_won | checkout_won)
    assert {b: charges[b] for b in release_won} == {b: [] for b in release_won}
    assert {b: charges[b] for b in checkout_won} == {b: ["captured"] for b in checkout_won}
    for booking_id in release_won:
        async with http.get(f"{stack.url}/v1/bookings/{booking_id}",
                            headers=auth(token)) as resp:
            assert resp.status == 404
    after = await cabin_counts(db, flight["id"])
    assert after == {**before, "sold": before["sold"] + len(checkout_won),
                     "available": before["available"] - len(checkout_won)}
    assert await check(pool=db, dynamodb=dynamodb, tables=tables,
                       grace=timedelta(seconds=15)) == []
    print("release-vs-checkout outcomes:",
          dict(Counter(f"{r[1]}/{c[1] or c[0]}" for _, r, c in outcomes)))


async def test_a_second_checkout_is_already_booked_before_and_after_confirmation(
        stack: RunningStack, http: aiohttp.ClientSession, dynamodb: Any,
        tables: Tables) -> None:
    """Another Idempotency-Key for a hold that a booking pays for is 409 `hold_already_booked`
    while that booking is pending and after it is confirmed; the release is refused too."""
    customer = f"vera-{uuid.uuid4().hex[:6]}"
    token = stack.token(customer)
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    # GIVEN a booking whose card fails twice, so it is pending for at least three seconds
    status, first = await book(http, stack.url, token, hold["id"], TRANSIENT_CARD)
    assert status == 202

    # WHEN a second checkout and a release come while it is being paid
    keys = [uuid.uuid4().hex, uuid.uuid4().hex]
    second = await book(http, stack.url, token, hold["id"], GOOD_CARD, key=keys[0])
    released = await release(http, stack, token, hold["id"])
    async with http.get(f"{stack.url}/v1/bookings/{first['booking_id']}",
                        headers=auth(token)) as resp:
        assert (await resp.json())["status"] == "pending"  # both answers came mid-payment
    # THEN both are refused
    assert (second[0], second[1]["code"]) == (409, "hold_already_booked")
    assert released == (409, "hold_in_checkout")

    # AND once the first booking is confirmed, the answer is the same
    confirmed = await wait_for_status(http, stack.url, token, first["booking_id"], within=45)
    assert confirmed["status"] == "confirmed"
    third = await book(http, stack.url, token, hold["id"], GOOD_CARD, key=keys[1])
    assert (third[0], third[1]["code"]) == (409, "hold_already_booked")
    others = {booking_id_of(customer, k) for k in keys}
    charges = await charges_of(dynamodb, tables, {first["booking_id"], *others})
    assert charges == {first["booking_id"]: ["captured"], **{b: [] for b in others}}


async def test_a_stale_declined_booking_leaves_another_booking_s_hold_alone(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], tables: Tables) -> None:
    """A second booking of a hold that slipped past the API (written straight to the table)
    and whose card is declined fails without releasing the hold that the first one paid."""
    customer = f"walt-{uuid.uuid4().hex[:6]}"
    token = stack.token(customer)
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    _, first = await book(http, stack.url, token, hold["id"], GOOD_CARD)
    assert (await wait_for_status(http, stack.url, token, first["booking_id"]))["status"] == \
        "confirmed"
    sold = await cabin_counts(db, flight["id"])
    # GIVEN a stale booking of the same hold with a card that will be declined
    payments = SimulatedPaymentProvider(aws["dynamodb"], tables.payments, fingerprint_key=b"e2e")
    now = utcnow()
    stale = Booking(booking_id=uuid.uuid4().hex, customer_id=customer, hold_id=hold["id"],
                    status=PENDING, amount=hold["total"]["amount"],
                    currency=hold["total"]["currency"], items=Hold.model_validate(hold).items,
                    contact_email="walt@example.com", contact_name="Walt",
                    payment_method=(await payments.tokenize(DECLINED_CARD)).token, created_at=now,
                    updated_at=now)
    assert await BookingRepository(aws["dynamodb"], tables.bookings).create(stale)
    # WHEN the worker runs its saga
    assert stack.stack.deployed is not None
    await aws["sqs"].send_message(QueueUrl=stack.stack.deployed.ref("CheckoutQueue"),
                                  MessageBody=json.dumps({"booking_id": stale.booking_id}))
    # THEN it fails (its refused release is not retried until the DLQ) and the first booking
    # keeps the seats it paid for
    failed = await wait_for_status(http, stack.url, token, stale.booking_id, within=30)
    assert (failed["status"], failed.get("failure_reason")) == ("failed", "payment_declined")
    assert await cabin_counts(db, flight["id"]) == sold
    async with http.get(f"{stack.url}/v1/holds/{hold['id']}", headers=auth(token)) as resp:
        got = await resp.json()
    assert (got["status"], got["booking_id"]) == ("confirmed", first["booking_id"])
