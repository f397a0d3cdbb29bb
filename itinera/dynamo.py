"""Conditional writes and leases in DynamoDB: the one way to claim work and take it over."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")
CONDITION_FAILED = "ConditionalCheckFailedException"
# A DynamoDB attribute value as the low-level API spells it: {"S": "x"}, {"N": "1"}, ...
Value = Mapping[str, Any]


async def conditionally(write: Awaitable[T]) -> T | None:
    """Return the conditional *write*'s answer, or None when its condition did not hold."""
    try:
        return await write
    except ClientError as exc:
        if exc.response["Error"]["Code"] == CONDITION_FAILED:
            return None
        raise


@dataclass(frozen=True, kw_only=True)
class Lease:
    """A claim on one item (or one map entry of it) that lapses after *seconds*.

    The claim's time lives in the number at *stamp* (a path: a map entry is two names). An
    item that carries *busy* (attribute, value) is claimed; without it, it is done and never
    claimed again. A lease whose holder is named (*owner*) is re-entrant for that holder and
    is taken over only by `take_over_if_stale`, once the caller has checked that the holder
    died; an anonymous lease has no one to check, and `claim` takes it over once stale.
    """

    db: Any
    table: str
    key: Mapping[str, Value]
    seconds: int
    stamp: tuple[str, ...] = ("claimed_at",)
    # The stamp holds when the claim lapses rather than when it was made.
    expires: bool = False
    busy: tuple[str, str] | None = None
    owner: str | None = None

    async def claim(self, *, holder: str | None = None,
                    fields: Mapping[str, Value] | None = None, now: int | None = None) -> bool:
        """Claim the lease with *fields* if it is free, already *holder*'s, or stale."""
        return await conditionally(self.db.update_item(
            **self.claim_request(holder=holder, fields=fields, now=now))) is not None

    async def take_over_if_stale(self, stale_holder: str, *, holder: str,
                                 fields: Mapping[str, Value] | None = None,
                                 now: int | None = None) -> bool:
        """Move the lease from *stale_holder* to *holder* if its claim is stale."""
        return await conditionally(self.db.update_item(**self.take_over_request(
            stale_holder, holder=holder, fields=fields, now=now))) is not None

    async def holder(self) -> str | None:
        """Return who holds the lease now (a consistent read), or None if nobody does."""
        assert self.owner is not None, "only a lease with an owner attribute names its holder"
        answer = await self.db.get_item(TableName=self.table, Key=dict(self.key),
                                        ConsistentRead=True)
        item = answer.get("Item", {})
        return str(item[self.owner]["S"]) if self.owner in item else None

    async def release(self) -> bool:
        """Give the claim up at once (delete its item); False if it was no longer claimed."""
        return await conditionally(self.db.delete_item(**self.release_request())) is not None

    def claim_request(self, *, holder: str | None = None,
                      fields: Mapping[str, Value] | None = None, now: int | None = None
                      ) -> dict[str, Any]:
        """Return the `update_item` arguments of `claim`."""
        now = int(time.time()) if now is None else now
        names, values, sets = self._writes(holder, fields or {}, now)
        taken = [f"attribute_not_exists({self._stamp_path})"]
        if self.owner is not None:
            assert holder is not None, "a lease with an owner attribute is claimed by a holder"
            taken.append("#owner = :holder")
        else:
            taken.append(self._stale(names, values, now))
        return self._request(names, values, sets, " OR ".join(taken))

    def take_over_request(self, stale_holder: str, *, holder: str,
                          fields: Mapping[str, Value] | None = None, now: int | None = None
                          ) -> dict[str, Any]:
        """Return the `update_item` arguments of `take_over_if_stale`."""
        assert self.owner is not None, "only a lease with an owner attribute is taken over"
        now = int(time.time()) if now is None else now
        names, values, sets = self._writes(holder, fields or {}, now)
        values[":stale_holder"] = {"S": stale_holder}
        condition = f"#owner = :stale_holder AND {self._stale(names, values, now)}"
        return self._request(names, values, sets, condition)

    def release_request(self) -> dict[str, Any]:
        """Return the `delete_item` arguments of `release`."""
        assert len(self.stamp) == 1, "a lease on a map entry is not released by deleting"
        request: dict[str, Any] = {"TableName": self.table, "Key": dict(self.key)}
        if self.busy is not None:
            request.update(ConditionExpression="#busy = :busy",
                           ExpressionAttributeNames={"#busy": self.busy[0]},
                           ExpressionAttributeValues={":busy": {"S": self.busy[1]}})
        return request

    @property
    def _stamp_path(self) -> str:
        return ".".join(f"#stamp{i}" for i in range(len(self.stamp)))

    def _writes(self, holder: str | None, fields: Mapping[str, Value], now: int
                ) -> tuple[dict[str, str], dict[str, Any], list[str]]:
        names = {f"#stamp{i}": part for i, part in enumerate(self.stamp)}
        values: dict[str, Any] = {":now": {"N": str(now + self.seconds if self.expires
                                                    else now)}}
        sets = [f"{self._stamp_path} = :now"]
        if self.owner is not None and holder is not None:
            names["#owner"] = self.owner
            values[":holder"] = {"S": holder}
            sets.append("#owner = :holder")
        if self.busy is not None:
            names["#busy"] = self.busy[0]
            values[":busy"] = {"S": self.busy[1]}
            sets.append("#busy = :busy")
        for i, (name, value) in enumerate(fields.items()):
            names[f"#field{i}"] = name
            values[f":field{i}"] = dict(value)
            sets.append(f"#field{i} = :field{i}")
        return names, values, sets

    def _stale(self, names: dict[str, str], values: dict[str, Any], now: int) -> str:
        """Return the condition that the claim has lapsed (and the item is still claimed)."""
        values[":cutoff"] = {"N": str(now if self.expires else now - self.seconds)}
        stale = f"{self._stamp_path} < :cutoff"
        return f"(#busy = :busy AND {stale})" if self.busy is not None else stale

    def _request(self, names: dict[str, str], values: dict[str, Any], sets: list[str],
                 condition: str) -> dict[str, Any]:
        return {"TableName": self.table, "Key": dict(self.key),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
