"""Leases against the moto server: one claimant at a time, stale claims taken over, releases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aioboto3
import pytest

from itinera.dynamo import Lease

NOW = 1_000_000


@pytest.fixture(scope="module")
async def dynamodb(moto_url: str) -> AsyncIterator[Any]:
    """An aioboto3 DynamoDB client on this module's moto server, with one table."""
    session = aioboto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                               region_name="eu-west-1")
    async with session.client("dynamodb", endpoint_url=moto_url) as client:
        await client.create_table(
            TableName="leases", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
        yield client


def _lease(db: Any, **options: Any) -> Lease:
    return Lease(db=db, table="leases", key={"id": {"S": uuid.uuid4().hex}}, seconds=60,
                 **options)


async def _item(lease: Lease) -> dict[str, Any]:
    answer = await lease.db.get_item(TableName=lease.table, Key=dict(lease.key),
                                     ConsistentRead=True)
    return dict(answer.get("Item", {}))


async def test_one_claimant_until_the_claim_is_stale(dynamodb: Any) -> None:
    """A fresh claim refuses a second claimant; once older than the lease it is taken over."""
    lease = _lease(dynamodb, busy=("state", "sending"))
    assert await lease.claim(now=NOW, fields={"expiration": {"N": "5"}})
    assert not await lease.claim(now=NOW + 60)
    assert await lease.claim(now=NOW + 61)
    item = await _item(lease)
    assert item["claimed_at"] == {"N": str(NOW + 61)} and item["state"] == {"S": "sending"}
    assert item["expiration"] == {"N": "5"}  # a field the taker did not write stays


async def test_a_finished_item_is_never_claimed_again(dynamodb: Any) -> None:
    """Once the holder marks the item done (busy no more), even a stale claim stays put."""
    lease = _lease(dynamodb, busy=("state", "sending"))
    assert await lease.claim(now=NOW)
    await dynamodb.update_item(TableName="leases", Key=dict(lease.key),
                               UpdateExpression="SET #s = :sent",
                               ExpressionAttributeNames={"#s": "state"},
                               ExpressionAttributeValues={":sent": {"S": "sent"}})
    assert not await lease.claim(now=NOW + 3600)
    assert not await lease.release()
    assert (await _item(lease))["state"] == {"S": "sent"}


async def test_release_frees_a_claim_at_once(dynamodb: Any) -> None:
    """A released lease is claimed again without waiting for it to lapse."""
    lease = _lease(dynamodb, busy=("state", "in_progress"))
    assert await lease.claim(now=NOW)
    assert await lease.release()
    assert await _item(lease) == {}
    assert await lease.claim(now=NOW + 1)


async def test_an_expiry_stamp_lapses_when_now_passes_it(dynamodb: Any) -> None:
    """With `expires`, the item keeps its deadline; the claim is stale just after it."""
    lease = _lease(dynamodb, stamp=("in_progress_expiry",), expires=True,
                   busy=("state", "in_progress"))
    assert await lease.claim(now=NOW)
    assert (await _item(lease))["in_progress_expiry"] == {"N": str(NOW + 60)}
    assert not await lease.claim(now=NOW + 60)
    assert await lease.claim(now=NOW + 61)


async def test_an_owned_lease_moves_only_from_its_stale_holder(dynamodb: Any) -> None:
    """The holder may claim again; another waits however old the claim, until it takes over
    from the holder it names, and only once the claim is stale."""
    lease = _lease(dynamodb, owner="booking_id")
    assert await lease.claim(holder="b1", now=NOW)
    assert await lease.claim(holder="b1", now=NOW + 1)
    assert not await lease.claim(holder="b2", now=NOW + 3600)
    assert await lease.holder() == "b1"
    assert not await lease.take_over_if_stale("b1", holder="b2", now=NOW + 61)
    assert not await lease.take_over_if_stale("b0", holder="b2", now=NOW + 62)
    assert await lease.take_over_if_stale("b1", holder="b2", now=NOW + 62)
    assert await lease.holder() == "b2"


async def test_a_lease_on_a_map_entry_of_an_existing_item(dynamodb: Any) -> None:
    """Claims on two entries of one item are independent, and the item's other data stays."""
    lease = _lease(dynamodb)
    await dynamodb.put_item(TableName="leases", Item={**lease.key, "claims": {"M": {}},
                                                      "status": {"S": "confirmed"}})
    confirmed = Lease(db=dynamodb, table="leases", key=lease.key, seconds=30,
                      stamp=("claims", "booking.confirmed"))
    cancelled = Lease(db=dynamodb, table="leases", key=lease.key, seconds=30,
                      stamp=("claims", "booking.cancelled"))
    assert await confirmed.claim(now=NOW)
    assert not await confirmed.claim(now=NOW + 30)
    assert await cancelled.claim(now=NOW + 30)
    assert await confirmed.claim(now=NOW + 31)
    item = await _item(lease)
    assert item["status"] == {"S": "confirmed"}
    assert item["claims"]["M"] == {"booking.confirmed": {"N": str(NOW + 31)},
                                   "booking.cancelled": {"N": str(NOW + 30)}}
