"""Consume booking events: one e-mail per event, however often it is delivered."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from itinera.api.events import BookingEvent
from itinera.dynamo import Lease
from itinera.tracing import traced
from notifier.messages import email_for, itinerary_for, parse_delivery
from notifier.settings import Settings

log = logging.getLogger("notifier.consumer")
# A claim older than this belongs to a consumer that died before sending; take it over.
CLAIM_TIMEOUT_SECONDS = 60


class Notifier:
    """Deliver each booking event once: claim it, send, then mark it sent."""

    def __init__(self, settings: Settings, *, sqs: Any, dynamodb: Any, ses: Any, s3: Any
                 ) -> None:
        self.settings = settings
        self.sqs, self.dynamodb, self.ses, self.s3 = sqs, dynamodb, ses, s3

    async def run(self) -> None:
        """Poll the queue until cancelled."""
        while True:
            try:
                await self.poll_once(wait_seconds=2)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("polling failed")
                await asyncio.sleep(1)

    async def poll_once(self, *, wait_seconds: int) -> int:
        """Handle one batch; return how many messages were handled."""
        answer = await self.sqs.receive_message(QueueUrl=self.settings.queue_url,
                                                MaxNumberOfMessages=10,
                                                WaitTimeSeconds=wait_seconds)
        handled = 0
        for message in answer.get("Messages", []):
            try:
                event, carried = parse_delivery(message["Body"])
                with traced(*carried):
                    await self.handle(event)
            except Exception:
                # Left on the queue: it comes back, and the DLQ takes it after maxReceiveCount.
                log.exception("event not delivered", extra={"message_id": message["MessageId"]})
                continue
            await self.sqs.delete_message(QueueUrl=self.settings.queue_url,
                                          ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        return handled

    async def handle(self, event: BookingEvent) -> bool:
        """Send the event's e-mail unless it was sent already; return whether it sent."""
        event_id, booking = event.event_id, event.booking
        if not await self._claim(event_id):
            log.info("duplicate event dropped", extra={"event_id": event_id})
            return False
        try:
            if event.event_type == "booking.confirmed":
                await self.s3.put_object(
                    Bucket=self.settings.itineraries_bucket,
                    Key=f"itineraries/{booking.customer_id}/{booking.booking_id}.json",
                    Body=itinerary_for(event), ContentType="application/json")
            subject, text = email_for(event)
            answer = await self.ses.send_email(
                Source=self.settings.ses_sender,
                Destination={"ToAddresses": [booking.contact.email]},
                Message={"Subject": {"Data": subject}, "Body": {"Text": {"Data": text}}})
        except BaseException:
            await self._release(event_id)
            raise
        await self.dynamodb.update_item(
            TableName=self.settings.notifications_table,
            Key={"notification_id": {"S": event_id}},
            UpdateExpression="SET #s = :sent, ses_message_id = :m",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":sent": {"S": "sent"},
                                       ":m": {"S": answer["MessageId"]}})
        log.info("notification sent", extra={"event_id": event_id,
                                             "booking_id": booking.booking_id,
                                             "event_type": event.event_type})
        return True

    def _lease(self, event_id: str) -> Lease:
        # Marked "sent" once delivered, which no claim takes over.
        return Lease(db=self.dynamodb, table=self.settings.notifications_table,
                     key={"notification_id": {"S": event_id}},
                     seconds=CLAIM_TIMEOUT_SECONDS, busy=("state", "sending"))

    async def _claim(self, event_id: str) -> bool:
        now = int(time.time())
        return await self._lease(event_id).claim(
            now=now, fields={"expiration": {"N": str(now + 30 * 24 * 3600)}})

    async def _release(self, event_id: str) -> None:
        await self._lease(event_id).release()
