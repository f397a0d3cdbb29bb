"""`itinera redrive` and `itinera check`: operate the checkout pipeline and its invariants."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from typing import Any

from itinera.aws import BOTO_CONFIG, session
from operations import trace
from operations.check import as_json, report
from operations.local_stack import check_stack, local_stack
from operations.redrive import redrive


def _redrive(args: argparse.Namespace) -> int:
    if args.dlq_url and args.queue_url:
        dlq_url, queue_url = args.dlq_url, args.queue_url
    else:
        queues = local_stack(args.state_dir).dead_letter_queues
        if args.queue not in queues:
            raise SystemExit(f"unknown queue {args.queue}; queues with a DLQ: "
                             f"{', '.join(sorted(queues))}")
        dlq_url, queue_url = queues[args.queue].dlq_url, queues[args.queue].queue_url

    async def go() -> int:
        async with session().client("sqs", config=BOTO_CONFIG) as sqs:
            return await redrive(sqs, dlq_url=dlq_url, target_url=queue_url, limit=args.limit)

    moved = asyncio.run(go())
    print(f"moved {moved} message(s) from {dlq_url} back to {queue_url}")
    return 0


def _check(args: argparse.Namespace) -> int:
    record = local_stack(args.state_dir)
    violations = asyncio.run(check_stack(record, grace=timedelta(seconds=args.grace_seconds)))
    print(as_json(violations) if args.json else report(violations))
    return 1 if violations else 0


def _trace(args: argparse.Namespace) -> int:
    log_dir = args.state_dir / "logs"
    lines = trace.booking_trace(trace.read_lines(log_dir), args.booking_id)
    if not lines:
        print(f"no log line under {log_dir} names booking {args.booking_id}")
        return 1
    print(trace.render(lines))
    return 0


def register(sub: Any) -> None:
    """Add `redrive`, `check` and `trace` to the command line."""
    r = sub.add_parser("redrive", help="move dead-lettered messages back to their queue")
    r.add_argument("--queue", default="CheckoutQueue",
                   help="logical name of the source queue in the template")
    r.add_argument("--limit", type=int, default=1000, help="move at most this many")
    r.add_argument("--dlq-url", help="on AWS: the dead-letter queue URL")
    r.add_argument("--queue-url", help="on AWS: the queue to move messages back to")
    r.set_defaults(func=_redrive)

    c = sub.add_parser("check", help="verify the booking invariants of a running stack")
    c.add_argument("--grace-seconds", type=int, default=120,
                   help="leave work younger than this alone (it may still be in flight)")
    c.add_argument("--json", action="store_true", help="print violations as JSON")
    c.set_defaults(func=_check)

    t = sub.add_parser("trace", help="one booking's log lines from every service, in order")
    t.add_argument("booking_id", help="the booking's id (32 hex digits)")
    t.set_defaults(func=_trace)
