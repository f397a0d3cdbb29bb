"""The running local stack's record, and the invariant check against the stack it names."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomysql

from itinera.aws import BOTO_CONFIG, session
from operations.check import Tables, Violation, check


def stack_record(state_dir: Path) -> dict[str, Any]:
    """Return what the running local stack wrote about itself, and point AWS SDKs at it."""
    path = state_dir / "run" / "stack.json"
    if not path.exists():
        raise SystemExit(f"no local stack record at {path}: start one with `make run`, or "
                         f"pass the AWS names explicitly")
    record: dict[str, Any] = json.loads(path.read_text())
    os.environ.update(record["aws"])
    return record


async def check_stack(record: dict[str, Any], *, grace: timedelta) -> list[Violation]:
    """Return the invariant violations of the stack described by *record* (`stack.json`)."""
    db, names = record["database"], record["resources"]
    pool = await aiomysql.create_pool(host=db["host"], port=db["port"], user=db["user"],
                                      password=os.environ.get("DB_PASSWORD", "itinera"),
                                      db=db["name"], autocommit=True, maxsize=2)
    try:
        async with session().client("dynamodb", config=BOTO_CONFIG) as dynamodb:
            return await check(pool=pool, dynamodb=dynamodb, tables=Tables(
                bookings=names["BookingsTable"], payments=names["PaymentsTable"],
                notifications=names["NotificationsTable"]), grace=grace)
    finally:
        pool.close()
        await pool.wait_closed()
