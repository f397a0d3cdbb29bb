"""Lambda handler for the checkout queue: one saga per message, partial batch failures."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from checkout.runtime import dependencies, run
from itinera.logs import configure_logging

configure_logging("checkout-worker")
log = logging.getLogger("checkout.worker")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run the saga for each record; report the ones that failed so only they come back."""
    return dict(process_partial_response(event=event, record_handler=_record,
                                         processor=BatchProcessor(event_type=EventType.SQS),
                                         context=context))


def _record(record: SQSRecord) -> None:
    booking_id = orjson.loads(record.body)["booking_id"]
    try:
        booking = run(_settle(booking_id))
    except Exception:
        log.warning("checkout step failed; the message will be retried",
                    extra={"booking_id": booking_id, "message_id": record.message_id,
                           "receive_count": record.attributes.approximate_receive_count},
                    exc_info=True)
        raise
    log.info("checkout processed", extra={"booking_id": booking_id, "status": booking})


async def _settle(booking_id: str) -> str:
    deps = await dependencies()
    booking = await deps.saga.run(booking_id)
    return booking.status
