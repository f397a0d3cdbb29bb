"""Build the notifier application: health endpoints plus the queue consumer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from itinera.aws import BOTO_CONFIG, session
from itinera.web import checks_key, new_app
from notifier.consumer import Notifier
from notifier.settings import Settings

settings_key = web.AppKey("settings", Settings)
notifier_key = web.AppKey("notifier", Notifier)


async def _consumer(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    aws = session()
    async with contextlib.AsyncExitStack() as stack:
        clients = {name: await stack.enter_async_context(aws.client(name, config=BOTO_CONFIG))
                   for name in ("sqs", "dynamodb", "ses", "s3")}
        notifier = Notifier(settings, **clients)
        app[notifier_key] = notifier

        async def queue_check() -> None:
            await clients["sqs"].get_queue_attributes(QueueUrl=settings.queue_url,
                                                      AttributeNames=["QueueArn"])

        app[checks_key]["sqs"] = queue_check
        task = asyncio.create_task(notifier.run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(settings: Settings) -> web.Application:
    """Return the notifier app; it starts consuming when it starts serving."""
    app = new_app()
    app[settings_key] = settings
    app.cleanup_ctx.append(_consumer)
    return app
