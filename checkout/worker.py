"""Lambda handler for the checkout queue: one saga per message, partial batch failures."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import orjson
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

from checkout.model import Booking
from checkout.retry import backoff_seconds, is_transient
from checkout.runtime import dependencies, run
from itinera.logs import configure_logging
from itinera.metrics import put_metrics
from itinera.tracing import from_lambda_record, traced

configure_logging("checkout-worker")
log = logging.getLogger("checkout.worker")
NAMESPACE = "Itinera/Checkout"
# The saga's end states, each a metric of the Business and Booking SLO dashboards.
OUTCOME_METRICS = {"confirmed": "BookingsConfirmed", "failed": "BookingsFailed",
                   "cancelled": "BookingsCancelled", "pending": "BookingsPending"}


class CheckoutRecord(SqsRecordModel):
    """A checkout queue record as the event source mapping delivers it."""

    # Kept as text: the saga step reads the booking id, so a poison body fails, backs off and
    # reaches the DLQ like any other failure, instead of failing validation here.
    body: str


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run the saga for each record; report the ones that failed so only they come back."""
    processor = BatchProcessor(event_type=EventType.SQS, model=CheckoutRecord)
    return dict(process_partial_response(event=event, record_handler=_record,
                                         processor=processor, context=context))


def _record(record: CheckoutRecord) -> None:
    carried = record.model_dump(include={"attributes", "messageAttributes"})
    with traced(*from_lambda_record(carried)):
        _settle_record(record)


def _settle_record(record: CheckoutRecord) -> None:
    receive_count = int(record.attributes.ApproximateReceiveCount or "1")
    try:
        booking_id = str(orjson.loads(record.body)["booking_id"])
        booking = run(_settle(booking_id))
    except Exception as exc:
        # A dependency outage is waited out for minutes; anything else (maybe a poison
        # message) comes back within seconds and reaches the DLQ after maxReceiveCount.
        transient = is_transient(exc)
        delay = backoff_seconds(receive_count, transient=transient)
        log.warning("checkout step failed; the message comes back later",
                    extra={"message_id": record.messageId, "receive_count": receive_count,
                           "transient": transient, "retry_in_seconds": delay}, exc_info=True)
        put_metrics({"CheckoutStepFailures": 1}, namespace=NAMESPACE, service="checkout")
        run(_delay(record.receiptHandle, delay))
        raise
    log.info("checkout processed", extra={"booking_id": booking_id, "status": booking.status})
    put_metrics({OUTCOME_METRICS[booking.status]: 1, "CheckoutMessagesProcessed": 1},
                namespace=NAMESPACE, service="checkout")
    if booking.status == "confirmed":
        put_metrics({"TimeToConfirmed": time_to_confirmed_ms(booking)}, namespace=NAMESPACE,
                    service="checkout", unit="Milliseconds")


def time_to_confirmed_ms(booking: Booking) -> float:
    """Return how long a confirmed booking took from its 202 to CONFIRMED, in milliseconds."""
    created = datetime.fromisoformat(booking.created_at)
    confirmed = datetime.fromisoformat(booking.updated_at)
    return max(0.0, (confirmed - created).total_seconds() * 1000)


async def _settle(booking_id: str) -> Booking:
    deps = await dependencies()
    return await deps.saga.run(booking_id)


async def _delay(receipt_handle: str, seconds: int) -> None:
    # Without this the message would wait the queue's whole visibility timeout (minutes);
    # a failure to shorten it only makes the retry later, never loses the message.
    deps = await dependencies()
    try:
        await deps.sqs.change_message_visibility(QueueUrl=deps.queue_url,
                                                 ReceiptHandle=receipt_handle,
                                                 VisibilityTimeout=seconds)
    except Exception:
        log.warning("could not shorten the retry delay", exc_info=True)
