"""Checkout under redelivery, crashes, duplicates and faults: nothing lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import aiomysql
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from checkout.inventory import InventoryClient
from checkout.model import PENDING, Booking
from checkout.payments import SimulatedPaymentProvider
from checkout.repository import BookingRepository
from checkout.saga import BookingSaga, SnsPublisher, utcnow
from itinera.api.holds import Hold
from itinera.aws import session
from itinera.http import ServiceClient
from itinera.web import SERVICE_TOKEN_HEADER
from localaws.config import aws_env
from localaws.events import sqs_event
from localaws.functions import functions
from operations.check import Tables, check
from operations.trace import read_lines
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import (
    auth,
    book,
    cabin_counts,
    find_flight,
    hold_seats,
    run_cli,
    wait_for_email,
    wait_for_status,
    wait_healthy,
    wait_status,
)
from tests.waiting import eventually

GOOD_CARD = "4242424242424242"
TRANSIENT_CARD = "4000000000000119"


@pytest.fixture(scope="module")
def worker_env(stack: RunningStack) -> Iterator[None]:
    """Give this process the worker function's environment, as Lambda would."""
    assert stack.stack.deployed is not None
    spec = functions(stack.stack.deployed)["CheckoutWorkerFunction"]
    saved = dict(os.environ)
    os.environ.update({**aws_env(stack.config), **spec.environment,
                       "INTERNAL_TOKEN": stack.stack.service_tokens["checkout"]})
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
async def aws(worker_env: None) -> AsyncIterator[dict[str, Any]]:
    """aioboto3 clients on the stack's emulator."""
    async with contextlib.AsyncExitStack() as exits:
        yield {name: await exits.enter_async_context(session().client(name))
               for name in ("dynamodb", "sqs", "sns")}


@pytest.fixture(scope="module")
async def events_queue(stack: RunningStack, aws: dict[str, Any]) -> str:
    """A queue of the test's own, subscribed to every booking event on the topic."""
    url = (await aws["sqs"].create_queue(QueueName=f"e2e-events-{uuid.uuid4().hex[:8]}"))[
        "QueueUrl"]
    arn = (await aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))[
        "Attributes"]["QueueArn"]
    assert stack.stack.deployed is not None
    await aws["sns"].subscribe(TopicArn=stack.stack.deployed.ref("BookingEventsTopic"),
                               Protocol="sqs", Endpoint=arn)
    return str(url)


class Events:
    """Every booking event seen on the test's queue so far."""

    def __init__(self, sqs: Any, url: str) -> None:
        self.sqs, self.url = sqs, url
        self.seen: list[dict[str, Any]] = []

    async def drain(self) -> list[dict[str, Any]]:
        """Read every event already on the queue and return all events seen."""
        while answer := (await self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)).get("Messages"):
            for m in answer:
                self.seen.append(json.loads(json.loads(m["Body"])["Message"]))
                await self.sqs.delete_message(QueueUrl=self.url,
                                              ReceiptHandle=m["ReceiptHandle"])
        return self.seen

    async def of(self, booking_id: str, event_type: str, *, within: float = 10.0
                 ) -> list[dict[str, Any]]:
        """Wait for the first event of *event_type* for the booking and return all there are
        (SNS delivers to SQS as it publishes: duplicates sent with it are on the queue too)."""
        async def found() -> list[dict[str, Any]]:
            return [e for e in await self.drain() if e["booking"]["booking_id"] == booking_id
                    and e["event_type"] == event_type]

        return await eventually(found, within=within, every=0.2,
                                what=f"{event_type} published for {booking_id}")


@pytest.fixture(scope="module")
def events(aws: dict[str, Any], events_queue: str) -> Events:
    """The booking events the topic published during these tests."""
    return Events(aws["sqs"], events_queue)


@pytest.fixture
def names(stack: RunningStack) -> dict[str, str]:
    """Physical names of the stack's tables and queues."""
    d = stack.stack.deployed
    assert d is not None
    return {k: d.ref(k) for k in ("BookingsTable", "PaymentsTable", "NotificationsTable",
                                  "CheckoutQueue", "CheckoutDeadLetterQueue")}


async def _pending_booking(stack: RunningStack, http: aiohttp.ClientSession, aws: dict[str, Any],
                           names: dict[str, str], *, customer: str, seats: int = 1,
                           card: str = GOOD_CARD, booking_id: str | None = None
                           ) -> tuple[Booking, dict[str, Any]]:
    """Hold seats through the gateway and store a pending booking with no queue message."""
    flight = await find_flight(http, stack.url, seats=seats)
    hold = await hold_seats(http, stack.url, stack.token(customer), flight["id"], seats)
    # A test's own key: these fingerprints need not match the stack's.
    payments = SimulatedPaymentProvider(aws["dynamodb"], names["PaymentsTable"],
                                        fingerprint_key=b"e2e")
    now = utcnow()
    booking = Booking(booking_id=booking_id or uuid.uuid4().hex, customer_id=customer,
                      hold_id=hold["id"], status=PENDING, amount=hold["total"]["amount"],
                      currency=hold["total"]["currency"],
                      items=Hold.model_validate(hold).items,
                      contact_email=f"{customer}@example.com", contact_name=customer,
                      payment_method=(await payments.tokenize(card)).token, created_at=now,
                      updated_at=now)
    assert await BookingRepository(aws["dynamodb"], names["BookingsTable"]).create(booking)
    return booking, flight


async def _charges(aws: dict[str, Any], names: dict[str, str], booking_id: str
                   ) -> list[dict[str, Any]]:
    ledger = await SimulatedPaymentProvider(aws["dynamodb"], names["PaymentsTable"]).ledger()
    return [c for c in ledger if c["idempotency_key"] == booking_id]


async def _invariants_hold(stack: RunningStack, db: aiomysql.Pool, aws: dict[str, Any],
                           names: dict[str, str]) -> None:
    violations = await check(pool=db, dynamodb=aws["dynamodb"], tables=Tables(
        bookings=names["BookingsTable"], payments=names["PaymentsTable"],
        notifications=names["NotificationsTable"]), grace=timedelta(seconds=15))
    assert violations == []


def _deliver(body: dict[str, Any], receive_count: int = 1) -> dict[str, Any]:
    """Invoke the real worker handler with one SQS record, in a fresh environment."""
    from checkout.runtime import shutdown
    from checkout.worker import handler

    message = {"MessageId": uuid.uuid4().hex, "ReceiptHandle": uuid.uuid4().hex,
               "Body": json.dumps(body),
               "Attributes": {"ApproximateReceiveCount": str(receive_count)}}
    event = sqs_event([message], queue_arn="arn:aws:sqs:eu-west-1:123456789012:checkout",
                      region="eu-west-1")
    try:
        return dict(handler(event, None))
    except BatchProcessingError:
        # Powertools raises when every record failed: for Lambda the whole batch failed.
        return {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    finally:
        shutdown()  # this thread's loop and clients, as when Lambda retires an environment


async def test_a_message_delivered_five_times_charges_and_confirms_once(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str], events: Events) -> None:
    """Five deliveries of one checkout message: one charge, one sale, one event, one e-mail."""
    booking, flight = await _pending_booking(stack, http, aws, names, customer="frank")
    before = await cabin_counts(db, flight["id"])

    for attempt in range(1, 6):
        answer = await asyncio.to_thread(_deliver, {"booking_id": booking.booking_id}, attempt)
        assert answer == {"batchItemFailures": []}

    assert len(await _charges(aws, names, booking.booking_id)) == 1
    after = await cabin_counts(db, flight["id"])
    assert after["sold"] == before["sold"] + 1 and after["held"] == before["held"] - 1
    assert len(await events.of(booking.booking_id, "booking.confirmed")) == 1
    emails = await wait_for_email(http, stack.config.moto_url, to="frank@example.com",
                                  containing=booking.booking_id)
    assert len(emails) == 1
    await _invariants_hold(stack, db, aws, names)


async def test_concurrent_duplicate_deliveries_still_charge_and_confirm_once(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str], events: Events) -> None:
    """Five copies delivered at the same moment: one charge and one event, twins retry."""
    booking, flight = await _pending_booking(stack, http, aws, names, customer="grace")
    before = await cabin_counts(db, flight["id"])
    body = {"booking_id": booking.booking_id}

    answers = await asyncio.gather(*(asyncio.to_thread(_deliver, body) for _ in range(5)))
    # A twin that found the event being published asks for a retry; redeliver those.
    for answer in answers:
        if answer["batchItemFailures"]:
            assert await asyncio.to_thread(_deliver, body, 2) == {"batchItemFailures": []}

    assert len(await _charges(aws, names, booking.booking_id)) == 1
    assert (await cabin_counts(db, flight["id"]))["sold"] == before["sold"] + 1
    assert len(await events.of(booking.booking_id, "booking.confirmed")) == 1


class CrashBeforeConfirm(InventoryClient):
    """The real inventory client, but the worker dies right before confirming, once."""

    crashed = False

    async def confirm_hold(self, hold_id: str, *, booking_id: str) -> Hold:
        """Die the first time, as a Lambda timing out after the charge would."""
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("worker killed between charge and confirm")
        return await super().confirm_hold(hold_id, booking_id=booking_id)


async def test_a_worker_crash_between_charge_and_confirm_completes_once_on_redelivery(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """After a crash mid-saga the redelivery confirms the booking; the card is charged once."""
    booking, flight = await _pending_booking(stack, http, aws, names, customer="heidi", seats=2)
    before = await cabin_counts(db, flight["id"])
    inventory = CrashBeforeConfirm(ServiceClient(
        http, f"http://127.0.0.1:{stack.config.inventory_port}", name="inventory",
        headers={SERVICE_TOKEN_HEADER: stack.stack.service_tokens["checkout"]}))
    bookings = BookingRepository(aws["dynamodb"], names["BookingsTable"])
    assert stack.stack.deployed is not None
    saga = BookingSaga(bookings=bookings,
                       payments=SimulatedPaymentProvider(aws["dynamodb"], names["PaymentsTable"]),
                       inventory=inventory,
                       publisher=SnsPublisher(aws["sns"],
                                              stack.stack.deployed.ref("BookingEventsTopic")))

    with pytest.raises(RuntimeError, match="killed"):
        await saga.run(booking.booking_id)
    stored = await bookings.get(booking.booking_id)
    assert stored is not None and stored.status == PENDING
    assert len(await _charges(aws, names, booking.booking_id)) == 1

    # The redelivery goes through the real worker handler.
    assert await asyncio.to_thread(_deliver, {"booking_id": booking.booking_id}, 2) == \
        {"batchItemFailures": []}
    stored = await bookings.get(booking.booking_id)
    assert stored is not None and stored.status == "confirmed"
    assert len(await _charges(aws, names, booking.booking_id)) == 1
    assert (await cabin_counts(db, flight["id"]))["sold"] == before["sold"] + 2
    await _invariants_hold(stack, db, aws, names)


async def test_fifty_concurrent_requests_with_one_key_make_one_booking(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """Fifty simultaneous POSTs with the same Idempotency-Key: one booking, identical answers."""
    customer = f"ivan-{uuid.uuid4().hex[:6]}"
    token = stack.token(customer)
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    key = uuid.uuid4().hex

    answers = await asyncio.gather(*(book(http, stack.url, token, hold["id"], GOOD_CARD,
                                          key=key) for _ in range(50)))
    assert {status for status, _ in answers} == {202}, answers
    assert len({body["booking_id"] for _, body in answers}) == 1
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    booking_id = answers[0][1]["booking_id"]
    assert (await wait_for_status(http, stack.url, token, booking_id))["status"] == "confirmed"
    async with http.get(f"{stack.url}/v1/bookings", headers=auth(token)) as resp:
        assert [b["booking_id"] for b in (await resp.json())["items"]] == [booking_id]
    assert len(await _charges(aws, names, booking_id)) == 1


async def test_the_same_key_with_another_body_is_refused_and_missing_key_is_400(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Reusing a key for another body is 422 `idempotency_key_reused`; no key at all is 400."""
    token = stack.token("judy")
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    key = uuid.uuid4().hex
    status, _ = await book(http, stack.url, token, hold["id"], GOOD_CARD, key=key)
    assert status == 202
    status, again = await book(http, stack.url, token, hold["id"], GOOD_CARD, key=key,
                               email="other@example.com")
    assert status == 422 and again["code"] == "idempotency_key_reused"
    async with http.post(f"{stack.url}/v1/bookings", headers=auth(token), json={
            "hold_id": hold["id"], "payment": {"card_number": GOOD_CARD},
            "contact": {"email": "judy@example.com"}}) as resp:
        assert resp.status == 400
        assert (await resp.json())["code"] == "idempotency_key_required"


async def test_a_transiently_failing_card_is_retried_until_it_succeeds(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """The card network fails twice; the queue retries with backoff and the booking confirms."""
    token = stack.token("ken")
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    status, started = await book(http, stack.url, token, hold["id"], TRANSIENT_CARD)
    assert status == 202

    booking = await wait_for_status(http, stack.url, token, started["booking_id"], within=45)
    assert booking["status"] == "confirmed", booking
    (charge,) = await _charges(aws, names, booking["booking_id"])
    assert charge["status"] == "captured"
    attempts = await aws["dynamodb"].get_item(
        TableName=names["PaymentsTable"],
        Key={"payment_id": {"S": f"attempts#{booking['booking_id']}"}})
    assert int(attempts["Item"]["attempts"]["N"]) == 3  # two failures, then the capture
    await _invariants_hold(stack, db, aws, names)


async def test_a_poison_message_reaches_the_dlq_and_redrive_brings_it_back(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """A message for a missing booking dead-letters after maxReceiveCount; once the booking
    exists, `itinera redrive` sends it back and the worker completes it."""
    booking_id = uuid.uuid4().hex
    await aws["sqs"].send_message(QueueUrl=names["CheckoutQueue"],
                                  MessageBody=json.dumps({"booking_id": booking_id}))

    # 10 receives with 1+2*8 = 17 s of backoff between them (not a dependency outage), then
    # the DLQ.
    async def dead_lettered() -> bool:
        attrs = await aws["sqs"].get_queue_attributes(
            QueueUrl=names["CheckoutDeadLetterQueue"],
            AttributeNames=["ApproximateNumberOfMessages"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessages"]) >= 1

    await eventually(dead_lettered, within=60, every=1,
                     what="the poison message reached the DLQ")

    # GIVEN the cause is fixed (the booking now exists)
    await _pending_booking(stack, http, aws, names, customer="leo", booking_id=booking_id)
    # WHEN the operator redrives the DLQ
    code, out, err = await run_cli("--state-dir", str(stack.config.state_dir), "redrive",
                                   "--queue", "CheckoutQueue")
    assert code == 0, err
    assert "moved 1 message" in out
    # THEN the worker completes it
    token = stack.token("leo")
    assert (await wait_for_status(http, stack.url, token, booking_id))["status"] == "confirmed"
    await _invariants_hold(stack, db, aws, names)


async def test_cancel_refunds_gives_seats_back_and_announces_it(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str], events: Events) -> None:
    """Cancelling a confirmed booking refunds it, returns the seats and publishes the event."""
    token = stack.token("mia")
    flight = await find_flight(http, stack.url, seats=2)
    before = await cabin_counts(db, flight["id"])
    hold = await hold_seats(http, stack.url, token, flight["id"], 2)
    _, started = await book(http, stack.url, token, hold["id"], GOOD_CARD,
                            email="mia@example.com")
    booking_id = started["booking_id"]
    assert (await wait_for_status(http, stack.url, token, booking_id))["status"] == "confirmed"

    async with http.post(f"{stack.url}/v1/bookings/{booking_id}/cancel",
                         headers=auth(token)) as resp:
        assert resp.status == 202
        assert (await resp.json())["status"] in ("cancelling", "cancelled")
    booking = await wait_for_status(http, stack.url, token, booking_id,
                                    passing=("cancelling",))
    assert booking["status"] == "cancelled"

    (charge,) = await _charges(aws, names, booking_id)
    assert charge["status"] == "refunded"
    assert await cabin_counts(db, flight["id"]) == before
    assert len(await events.of(booking_id, "booking.cancelled")) == 1
    # Cancelling again changes nothing; someone else cannot cancel it.
    async with http.post(f"{stack.url}/v1/bookings/{booking_id}/cancel",
                         headers=auth(token)) as resp:
        assert resp.status == 202 and (await resp.json())["status"] == "cancelled"
    async with http.post(f"{stack.url}/v1/bookings/{booking_id}/cancel",
                         headers=auth(stack.token("nina"))) as resp:
        assert resp.status == 404
    assert len(await _charges(aws, names, booking_id)) == 1
    await _invariants_hold(stack, db, aws, names)


async def test_a_pending_or_failed_booking_cannot_be_cancelled(
        stack: RunningStack, http: aiohttp.ClientSession) -> None:
    """Cancel is for confirmed bookings: a failed one answers 409 `booking_not_cancellable`."""
    token = stack.token("olga")
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    _, started = await book(http, stack.url, token, hold["id"], "4000000000000002")
    assert (await wait_for_status(http, stack.url, token, started["booking_id"]))["status"] == \
        "failed"
    async with http.post(f"{stack.url}/v1/bookings/{started['booking_id']}/cancel",
                         headers=auth(token)) as resp:
        assert resp.status == 409
        assert (await resp.json())["code"] == "booking_not_cancellable"


async def test_check_reports_a_capture_that_belongs_to_no_booking(
        stack: RunningStack, db: aiomysql.Pool, aws: dict[str, Any],
        names: dict[str, str]) -> None:
    """`itinera check` is not blind: a stray capture in the ledger is invariant 4."""
    stray = uuid.uuid4().hex
    await aws["dynamodb"].put_item(TableName=names["PaymentsTable"], Item={
        "payment_id": {"S": f"charge#{stray}"}, "kind": {"S": "charge"},
        "status": {"S": "captured"}, "amount": {"N": "100"}, "currency": {"S": "EUR"},
        "idempotency_key": {"S": stray}})
    try:
        code, out, err = await run_cli("--state-dir", str(stack.config.state_dir), "check",
                                       "--json", "--grace-seconds", "15")
        assert code == 1, out + err
        found = json.loads(out)
        assert [v["invariant"] for v in found if stray in v["detail"]] == [4]
    finally:
        await aws["dynamodb"].delete_item(TableName=names["PaymentsTable"],
                                          Key={"payment_id": {"S": f"charge#{stray}"}})


async def test_a_hold_that_expired_before_confirmation_is_refunded_and_fails(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """If the hold expires while the card is charged, the charge is refunded, the booking
    fails with `hold_expired` and the seats are back on sale."""
    booking, flight = await _pending_booking(stack, http, aws, names, customer="pat", seats=2)
    before_hold = await cabin_counts(db, flight["id"])
    # Time passes: the hold's expiry is now in the past (the sweeper may take it first).
    async with db.acquire() as conn, conn.cursor() as cur:
        await cur.execute("UPDATE holds SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
                          "WHERE id = %s", (booking.hold_id,))

    assert await asyncio.to_thread(_deliver, {"booking_id": booking.booking_id}) == \
        {"batchItemFailures": []}

    stored = await BookingRepository(aws["dynamodb"], names["BookingsTable"]).get(
        booking.booking_id)
    assert stored is not None and stored.status == "failed"
    assert stored.failure_reason == "hold_expired"
    (charge,) = await _charges(aws, names, booking.booking_id)
    assert charge["status"] == "refunded"
    after = await cabin_counts(db, flight["id"])
    assert after["held"] == before_hold["held"] - 2
    assert after["available"] == before_hold["available"] + 2
    assert after["sold"] == before_hold["sold"]
    await _invariants_hold(stack, db, aws, names)


async def test_the_reconciler_requeues_a_booking_whose_message_was_lost(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """A pending booking with no message (the API died before sending it) is requeued by the
    scheduled reconciler and completes; settled bookings are left alone."""
    booking, _ = await _pending_booking(stack, http, aws, names, customer="quinn")

    def reconcile() -> dict[str, Any]:
        from checkout.reconciler import handler
        from checkout.runtime import shutdown

        os.environ["RECONCILE_AFTER_SECONDS"] = "0"
        try:
            return dict(handler({"detail-type": "Scheduled Event"}, None))
        finally:
            shutdown()

    requeued = (await asyncio.to_thread(reconcile))["requeued"]
    assert booking.booking_id in requeued
    token = stack.token("quinn")
    assert (await wait_for_status(http, stack.url, token, booking.booking_id))["status"] == \
        "confirmed"
    # Once settled it leaves the in-flight index: the next pass does not send it again.
    assert booking.booking_id not in (await asyncio.to_thread(reconcile))["requeued"]
    await _invariants_hold(stack, db, aws, names)


def _failed_attempt(stack: RunningStack, message_id: str) -> dict[str, Any] | None:
    """Return the worker's log entry for a failed attempt at message *message_id*, if any."""
    return next((line.entry for line in read_lines(stack.config.state_dir / "logs")
                 if line.entry.get("message_id") == message_id
                 and line.entry.get("message", "").startswith("checkout step failed")), None)


async def test_checkout_rides_out_an_inventory_outage_without_charging_twice(
        stack: RunningStack, http: aiohttp.ClientSession, db: aiomysql.Pool,
        aws: dict[str, Any], names: dict[str, str]) -> None:
    """With inventory down for a few seconds, the worker's confirm step fails,
    the message comes back with backoff, and the booking confirms once inventory is back."""
    booking, flight = await _pending_booking(stack, http, aws, names, customer="rosa")
    before = await cabin_counts(db, flight["id"])
    # GIVEN inventory is down: scaled to zero, its load balancer has no target left (frozen
    # tasks would fail their health checks and ECS would replace them within seconds)
    stack.set_desired_count("inventory", 0)
    try:
        await wait_status(http, f"http://127.0.0.1:{stack.config.inventory_port}/health", 503)
        # WHEN the checkout message arrives during the outage
        sent = await aws["sqs"].send_message(
            QueueUrl=names["CheckoutQueue"],
            MessageBody=json.dumps({"booking_id": booking.booking_id}))
        # THEN the worker takes it and its step fails as an outage (its warning names the
        # message: proof it was consumed, not merely still queued), and the booking stays
        # pending rather than failed
        attempt = await eventually(lambda: _failed_attempt(stack, sent["MessageId"]),
                                   within=30, every=0.5,
                                   what="the worker took the message and its step failed")
        assert attempt["transient"] is True, attempt
        stored = await BookingRepository(aws["dynamodb"], names["BookingsTable"]).get(
            booking.booking_id)
        assert stored is not None and stored.status == PENDING
    finally:
        stack.set_desired_count("inventory", 2)
    # AND the retries finish the booking once inventory is back, with a single charge
    token = stack.token("rosa")
    assert (await wait_for_status(http, stack.url, token, booking.booking_id,
                                  within=45))["status"] == "confirmed"
    assert len(await _charges(aws, names, booking.booking_id)) == 1
    assert (await cabin_counts(db, flight["id"]))["sold"] == before["sold"] + 1
    await _invariants_hold(stack, db, aws, names)
    # Leave the stack as found: both inventory targets back behind the load balancer.
    await wait_healthy(http, f"http://127.0.0.1:{stack.config.inventory_port}/health")


async def test_a_hold_pays_for_one_booking_only(
        stack: RunningStack, http: aiohttp.ClientSession, aws: dict[str, Any],
        names: dict[str, str]) -> None:
    """A second checkout of the same hold under another key is 409 `hold_already_booked`,
    so the card is never charged twice for one set of seats."""
    token = stack.token("sara")
    flight = await find_flight(http, stack.url, seats=1)
    hold = await hold_seats(http, stack.url, token, flight["id"], 1)
    status, first = await book(http, stack.url, token, hold["id"], GOOD_CARD)
    assert status == 202
    status, second = await book(http, stack.url, token, hold["id"], GOOD_CARD)
    assert status == 409 and second["code"] == "hold_already_booked"
    assert (await wait_for_status(http, stack.url, token, first["booking_id"]))["status"] == \
        "confirmed"
    ledger = await SimulatedPaymentProvider(aws["dynamodb"], names["PaymentsTable"]).ledger()
    assert [c for c in ledger if c["idempotency_key"] == first["booking_id"]]
    async with http.get(f"{stack.url}/v1/bookings", headers=auth(token)) as resp:
        assert [b["booking_id"] for b in (await resp.json())["items"]] == [first["booking_id"]]
