"""The lease helper's requests: which claims each condition admits, and what each writes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from itinera.dynamo import Lease, conditionally

KEY = {"id": {"S": "k1"}}
NOW = 1_000_000


def _refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "UpdateItem")


async def _raise(exc: Exception) -> Any:
    raise exc


async def _answer() -> dict[str, str]:
    return {"Attributes": "new"}


def _placeholders_all_used(request: dict[str, Any]) -> bool:
    """DynamoDB refuses a request that declares a name or value its expressions do not use."""
    text = " ".join(request.get(k, "") for k in ("UpdateExpression", "ConditionExpression"))
    used = set(re.findall(r"[#:][a-z_0-9]+", text))
    declared = {*request.get("ExpressionAttributeNames", {}),
                *request.get("ExpressionAttributeValues", {})}
    return used == declared


async def test_a_failed_condition_is_none_and_other_errors_raise() -> None:
    """A refused condition reads as None; an answer comes back; any other error is raised."""
    assert await conditionally(_answer()) == {"Attributes": "new"}
    assert await conditionally(_raise(_refused("ConditionalCheckFailedException"))) is None
    with pytest.raises(ClientError):
        await conditionally(_raise(_refused("ProvisionedThroughputExceededException")))


def test_an_anonymous_lease_is_claimed_when_free_or_stale_while_busy() -> None:
    """A claim takes a free item, or one still busy whose stamp is older than the lease."""
    lease = Lease(db=None, table="t", key=KEY, seconds=60, busy=("state", "sending"))
    request = lease.claim_request(now=NOW, fields={"expiration": {"N": "9"}})
    assert request["ConditionExpression"] == (
        "attribute_not_exists(#stamp0) OR (#busy = :busy AND #stamp0 < :cutoff)")
    assert request["UpdateExpression"] == (
        "SET #stamp0 = :now, #busy = :busy, #field0 = :field0")
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]
    assert names == {"#stamp0": "claimed_at", "#busy": "state", "#field0": "expiration"}
    assert values[":now"] == {"N": str(NOW)} and values[":cutoff"] == {"N": str(NOW - 60)}
    assert values[":busy"] == {"S": "sending"} and values[":field0"] == {"N": "9"}
    assert _placeholders_all_used(request)


def test_a_stamp_that_holds_the_expiry_is_written_ahead_and_compared_with_now() -> None:
    """With `expires`, the stamp is now + seconds, and a claim is stale once now passes it."""
    lease = Lease(db=None, table="t", key=KEY, seconds=30, stamp=("in_progress_expiry",),
                  expires=True, busy=("state", "in_progress"))
    values = lease.claim_request(now=NOW)["ExpressionAttributeValues"]
    assert values[":now"] == {"N": str(NOW + 30)} and values[":cutoff"] == {"N": str(NOW)}


def test_an_owned_lease_is_reentrant_and_never_taken_over_by_a_claim() -> None:
    """A lease naming its holder admits that holder again; only take_over moves it, and only
    from the named stale holder."""
    lease = Lease(db=None, table="t", key=KEY, seconds=30, owner="booking_id")
    claim = lease.claim_request(holder="b1", now=NOW)
    assert claim["ConditionExpression"] == "attribute_not_exists(#stamp0) OR #owner = :holder"
    assert claim["ExpressionAttributeValues"][":holder"] == {"S": "b1"}
    assert _placeholders_all_used(claim)
    take = lease.take_over_request("b0", holder="b1", now=NOW)
    assert take["ConditionExpression"] == "#owner = :stale_holder AND #stamp0 < :cutoff"
    assert take["ExpressionAttributeValues"][":stale_holder"] == {"S": "b0"}
    assert take["ExpressionAttributeValues"][":cutoff"] == {"N": str(NOW - 30)}
    assert "#owner = :holder" in take["UpdateExpression"]
    assert _placeholders_all_used(take)


def test_a_lease_on_a_map_entry_names_its_path() -> None:
    """A publish claim lives at publish_claims.<event type>, dots in the type included."""
    lease = Lease(db=None, table="t", key=KEY, seconds=30,
                  stamp=("publish_claims", "booking.confirmed"))
    request = lease.claim_request(now=NOW)
    assert request["ConditionExpression"] == (
        "attribute_not_exists(#stamp0.#stamp1) OR #stamp0.#stamp1 < :cutoff")
    assert request["UpdateExpression"] == "SET #stamp0.#stamp1 = :now"
    assert request["ExpressionAttributeNames"] == {"#stamp0": "publish_claims",
                                                   "#stamp1": "booking.confirmed"}
    assert _placeholders_all_used(request)


def test_release_deletes_only_while_the_item_is_claimed() -> None:
    """Releasing a busy lease is conditional on the item still being busy."""
    busy = Lease(db=None, table="t", key=KEY, seconds=60, busy=("state", "sending"))
    request = busy.release_request()
    assert request["ConditionExpression"] == "#busy = :busy"
    assert request["Key"] == KEY and _placeholders_all_used(request)
    assert "ConditionExpression" not in Lease(db=None, table="t", key=KEY,
                                              seconds=60).release_request()
