"""Move messages from a dead-letter queue back to the queue they came from."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("itinera.redrive")


async def redrive(sqs: Any, *, dlq_url: str, target_url: str, limit: int = 1000) -> int:
    """Move up to *limit* messages from *dlq_url* to *target_url*; return how many moved.

    Each message is sent before it is deleted: a crash in between leaves a duplicate, which
    the consumers' idempotency absorbs, rather than a lost message.
    """
    moved = 0
    while moved < limit:
        answer = await sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1,
                                           MaxNumberOfMessages=min(10, limit - moved),
                                           MessageAttributeNames=["All"],
                                           VisibilityTimeout=60)
        messages = answer.get("Messages", [])
        if not messages:
            break
        for message in messages:
            kwargs: dict[str, Any] = {"QueueUrl": target_url, "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                kwargs["MessageAttributes"] = message["MessageAttributes"]
            await sqs.send_message(**kwargs)
            await sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
            log.info("redriven", extra={"message_id": message["MessageId"]})
    return moved
