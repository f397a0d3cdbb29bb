"""moto's server with one more read-only view: the age of each queue's oldest message.

CloudWatch publishes AWS/SQS ApproximateAgeOfOldestMessage; moto has no such figure, and
finding it through the SQS API means receiving messages, which bumps their receive counts
and so the dead-letter logic. This view reads moto's own queues in the server process:
`GET /moto-api/itinera/sqs-oldest` answers `{account: {region: {queue name: age}}}` (the
age in seconds, null for an empty queue),
counting every message not yet deleted and no longer delayed (in flight included), as SQS
does. Run it as `python -m itinera.localstack.cloudwatch.moto_server -H HOST -p PORT`.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

OLDEST_PATH = "/moto-api/itinera/sqs-oldest"


Ages = dict[str, dict[str, dict[str, float | None]]]


def oldest_ages(backends: Any, now_ms: float) -> Ages:
    """Return each queue's oldest message age in seconds (None when it holds none)."""
    out: Ages = {}
    for account_id, regions in list(backends.items()):
        for region, backend in list(regions.items()):
            for queue in list(backend.queues.values()):
                # A copy: the server's other threads send and delete meanwhile.
                sent = [m.sent_timestamp for m in list(queue._messages)
                        if m.sent_timestamp is not None and not m.delayed]
                out.setdefault(account_id, {}).setdefault(region, {})[queue.name] = (
                    (now_ms - min(sent)) / 1000 if sent else None)
    return out


def _view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    from moto.sqs.models import sqs_backends

    ages = oldest_ages(sqs_backends, time.time() * 1000)
    return 200, {"Content-Type": "application/json"}, json.dumps(ages)


def main() -> None:
    """Register the view, then run moto's server with the command line's arguments."""
    from moto.moto_api._internal import urls
    from moto.server import main as moto_main

    urls.url_paths["{0}" + OLDEST_PATH + "$"] = _view
    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
