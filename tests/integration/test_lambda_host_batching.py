"""The local SQS event source mapping gathers a batch without waiting past its window."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aioboto3

from localaws.functions import QueueMapping
from localaws.lambda_host import _gather_batch


class Recorder:
    """An SQS client that remembers how long each receive was allowed to wait."""

    def __init__(self, sqs: Any) -> None:
        self.sqs, self.waits = sqs, []

    async def receive_message(self, **kwargs: Any) -> Any:
        self.waits.append(kwargs["WaitTimeSeconds"])
        return await self.sqs.receive_message(**kwargs)


async def _gather(moto_url: str, *, window: int, messages: int) -> tuple[int, list[int]]:
    session = aioboto3.Session(region_name="eu-west-1", aws_access_key_id="testing",
                               aws_secret_access_key="testing")
    async with session.client("sqs", endpoint_url=moto_url) as sqs:
        url = (await sqs.create_queue(QueueName=f"batch-{uuid.uuid4().hex[:8]}"))["QueueUrl"]
        for n in range(messages):
            await sqs.send_message(QueueUrl=url, MessageBody=str(n))
        mapping = QueueMapping(queue_arn="arn:aws:sqs:eu-west-1:123456789012:q", queue_url=url,
                               batch_size=10, batching_window=window,
                               report_item_failures=True, visibility_timeout=30)
        recorder = Recorder(sqs)
        batch = await _gather_batch(mapping, recorder, asyncio.Event())
        return len(batch), recorder.waits


async def test_without_a_window_a_batch_is_what_one_receive_brings(moto_url: str) -> None:
    """The template's mapping has no batching window: one long poll, then invoke."""
    size, waits = await _gather(moto_url, window=0, messages=3)
    assert size == 3
    assert waits == [2]


async def test_within_a_window_under_a_second_left_is_one_short_poll(moto_url: str) -> None:
    """With a 1 s window, the receive after the first may not wait again (SQS waits in whole
    seconds): it short-polls, and an empty answer ends the batch."""
    size, waits = await _gather(moto_url, window=1, messages=1)
    assert size == 1
    assert waits == [2, 0]
