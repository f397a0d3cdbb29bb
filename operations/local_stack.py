"""The running local stack's record, and the invariant check against the stack it names."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import aiomysql

from itinera.aws import BOTO_CONFIG, session
from localaws.record import NoLocalStack, StackRecord, read_record
from operations.check import Tables, Violation, check


def local_stack(state_dir: Path) -> StackRecord:
    """Return the running local stack's record, with this process's AWS SDKs pointed at it."""
    try:
        record = read_record(state_dir)
    except NoLocalStack as exc:
        raise SystemExit(f"{exc}, or pass the AWS names explicitly") from None
    record.export_aws_env()
    return record


async def check_stack(record: StackRecord, *, grace: timedelta) -> list[Violation]:
    """Return the invariant violations of the stack described by *record*."""
    db, names = record.database, record.resources
    pool = await aiomysql.create_pool(host=db.host, port=db.port, user=db.user,
                                      password=os.environ.get("DB_PASSWORD", "itinera"),
                                      db=db.name, autocommit=True, maxsize=2)
    try:
        async with session().client("dynamodb", config=BOTO_CONFIG) as dynamodb:
            return await check(pool=pool, dynamodb=dynamodb, tables=Tables(
                bookings=names["BookingsTable"], payments=names["PaymentsTable"],
                notifications=names["NotificationsTable"]), grace=grace)
    finally:
        pool.close()
        await pool.wait_closed()
