"""AWS/SQS queue depth and age from the emulator, per {QueueName}, as CloudWatch has them.

ApproximateNumberOfMessagesVisible and ApproximateNumberOfMessagesNotVisible come from
GetQueueAttributes. ApproximateAgeOfOldestMessage comes from the emulator's own queues
(moto_server.py's view), never from receiving messages, which would bump receive counts and
so the dead-letter logic; under a plain moto server (no view) it is not published.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from localaws.cloudwatch.emf import Datum
from localaws.moto_server import OLDEST_PATH
from localaws.resources import ACCOUNT_ID, Deployed

log = logging.getLogger("itinera.cloudwatch.sqs")
NAMESPACE = "AWS/SQS"


def queue_urls(deployed: Deployed) -> dict[str, str]:
    """Map each template queue's name to its URL."""
    urls = [deployed.ref(name) for name in deployed.template.of_type("AWS::SQS::Queue")
            if name in deployed.physical]
    return {url.rsplit("/", 1)[-1]: url for url in urls}


class QueueSampler:
    """Read each queue's figures once per period."""

    def __init__(self, sqs: Any, queues: dict[str, str], *, endpoint_url: str, region: str,
                 account_id: str = ACCOUNT_ID) -> None:
        self.sqs, self.queues = sqs, queues
        self.oldest_url = endpoint_url.rstrip("/") + OLDEST_PATH
        self.region, self.account_id = region, account_id

    def sample(self, at: float) -> list[Datum]:
        """Return every queue's metrics now."""
        ages = self._ages()
        out = []
        for name, url in self.queues.items():
            try:
                attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            except Exception as exc:
                log.warning("get_queue_attributes failed", extra={"queue": name,
                                                                  "error": repr(exc)})
                continue
            values = attributes["Attributes"]
            figures = {
                "ApproximateNumberOfMessagesVisible": float(values["ApproximateNumberOfMessages"]),
                "ApproximateNumberOfMessagesNotVisible":
                    float(values["ApproximateNumberOfMessagesNotVisible"])}
            if ages is not None and name in ages:
                # An empty queue's oldest message is 0 s old, as CloudWatch reports it.
                figures["ApproximateAgeOfOldestMessage"] = float(int(ages[name] or 0))
            out += [Datum(namespace=NAMESPACE, name=metric, timestamp=at, values=(value,),
                          dimensions=(("QueueName", name),),
                          unit="Seconds" if metric.endswith("Message") else "Count")
                    for metric, value in figures.items()]
        return out

    def _ages(self) -> dict[str, float | None] | None:
        try:
            with urllib.request.urlopen(self.oldest_url, timeout=2) as answer:  # noqa: S310
                ages = json.load(answer)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return dict(ages.get(self.account_id, {}).get(self.region, {}))
