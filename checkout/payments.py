"""The payment provider port and the bundled simulator, whose ledger lives in DynamoDB."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from itinera.dynamo import conditionally
from itinera.errors import ValidationFailed

SUCCEEDS, DECLINED, TRANSIENT = "succeeds", "declined", "transient"
# The usual test-card convention; any other Luhn-valid number succeeds.
TEST_CARDS = {"4242424242424242": SUCCEEDS, "4000000000000002": DECLINED,
              "4000000000000119": TRANSIENT}
# A transiently failing card fails this many attempts per idempotency key, then succeeds.
TRANSIENT_FAILURES = 2


class PaymentDeclined(Exception):
    """The card was declined: a final answer, retrying will not change it."""

    def __init__(self, message: str, *, card_fingerprint: str = "") -> None:
        super().__init__(message)
        # Which card, for the decline limits; never the number.
        self.card_fingerprint = card_fingerprint


class PaymentTransientError(Exception):
    """The provider failed in a way that a later retry may fix."""


class InvalidCard(ValidationFailed):
    code, title = "invalid_card", "The card number is not valid"


@dataclass(frozen=True)
class PaymentMethod:
    """A card exchanged for a token, and the card's fingerprint: the same for every token of
    one card number (a provider's `card.fingerprint`), so limits can follow a card."""

    token: str
    fingerprint: str


@dataclass(frozen=True)
class Charge:
    """A captured payment."""

    payment_id: str
    amount: int
    currency: str
    status: str


class PaymentProvider(Protocol):
    """What checkout needs from a payment provider."""

    async def tokenize(self, card_number: str) -> PaymentMethod:
        """Exchange a card number for a payment-method token; the number is not kept."""
        ...

    async def charge(self, *, idempotency_key: str, amount: int, currency: str,
                     payment_method: str) -> Charge:
        """Capture *amount* at most once per *idempotency_key*."""
        ...

    async def refund(self, *, payment_id: str) -> None:
        """Refund a capture in full; refunding twice is a no-op."""
        ...


def luhn_valid(number: str) -> bool:
    """Return whether *number* passes the Luhn check."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class SimulatedPaymentProvider:
    """A provider that behaves by test card and records every charge and refund."""

    def __init__(self, dynamodb: Any, table: str, *, fingerprint_key: bytes = b"",
                 latency_ms: float = 0.0) -> None:
        self.db = dynamodb
        self.table = table
        self.fingerprint_key = fingerprint_key
        self.latency = latency_ms / 1000

    async def _pause(self) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)

    def fingerprint(self, number: str) -> str:
        """Return the card's fingerprint: a keyed hash, so a leaked one reveals no number."""
        if not self.fingerprint_key:
            raise RuntimeError("no card fingerprint key: set CARD_FINGERPRINT_KEY or "
                               "CARD_FINGERPRINT_SECRET_ARN where cards are tokenized")
        return hmac.new(self.fingerprint_key, number.encode(), hashlib.sha256).hexdigest()[:32]

    async def tokenize(self, card_number: str) -> PaymentMethod:
        """Store the card's behaviour, last four digits and fingerprint under a fresh token."""
        number = card_number.replace(" ", "")
        if not luhn_valid(number):
            raise InvalidCard("the card number fails the Luhn check")
        method = PaymentMethod(token=f"pm_{uuid.uuid4().hex}", fingerprint=self.fingerprint(number))
        await self.db.put_item(TableName=self.table, Item={
            "payment_id": {"S": f"pm#{method.token}"}, "kind": {"S": "payment_method"},
            "behaviour": {"S": TEST_CARDS.get(number, SUCCEEDS)}, "last4": {"S": number[-4:]},
            "fingerprint": {"S": method.fingerprint},
        })
        return method

    async def charge(self, *, idempotency_key: str, amount: int, currency: str,
                     payment_method: str) -> Charge:
        """Capture once per key; a repeated key returns the first answer."""
        await self._pause()
        key = {"payment_id": {"S": f"charge#{idempotency_key}"}}
        method = await self.db.get_item(TableName=self.table, ConsistentRead=True,
                                        Key={"payment_id": {"S": f"pm#{payment_method}"}})
        if "Item" not in method:
            raise PaymentDeclined("unknown payment method")
        fingerprint = method["Item"].get("fingerprint", {}).get("S", "")
        behaviour = method["Item"]["behaviour"]["S"]
        if behaviour == TRANSIENT:
            # Counting failed attempts is only right before the charge exists.
            existing = await self.db.get_item(TableName=self.table, Key=key,
                                              ConsistentRead=True)
            if "Item" in existing:
                return _answer(existing["Item"])
            if await self._attempt(idempotency_key) <= TRANSIENT_FAILURES:
                raise PaymentTransientError("the card network timed out")
        status = "declined" if behaviour == DECLINED else "captured"
        item = {**key, "kind": {"S": "charge"}, "status": {"S": status},
                "amount": {"N": str(amount)}, "currency": {"S": currency},
                "idempotency_key": {"S": idempotency_key}, "fingerprint": {"S": fingerprint}}
        if await conditionally(self.db.put_item(
                TableName=self.table, Item=item,
                ConditionExpression="attribute_not_exists(payment_id)")) is None:
            # An earlier delivery, or a concurrent one, charged under this key: its answer is
            # the answer (one conditional write in the usual case, not a read and a write).
            existing = await self.db.get_item(TableName=self.table, Key=key,
                                              ConsistentRead=True)
            item = existing["Item"]
        return _answer(item)

    async def _attempt(self, idempotency_key: str) -> int:
        answer = await self.db.update_item(
            TableName=self.table, Key={"payment_id": {"S": f"attempts#{idempotency_key}"}},
            UpdateExpression="ADD attempts :one SET kind = :kind",
            ExpressionAttributeValues={":one": {"N": "1"}, ":kind": {"S": "attempts"}},
            ReturnValues="UPDATED_NEW")
        return int(answer["Attributes"]["attempts"]["N"])

    async def refund(self, *, payment_id: str) -> None:
        """Mark a capture refunded; a refunded one stays refunded."""
        await self._pause()
        refunded = await conditionally(self.db.update_item(
            TableName=self.table, Key={"payment_id": {"S": payment_id}},
            UpdateExpression="SET #s = :refunded",
            ConditionExpression="#s IN (:captured, :refunded)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":refunded": {"S": "refunded"},
                                       ":captured": {"S": "captured"}}))
        if refunded is None:
            raise PaymentDeclined(f"{payment_id} is not a capture")

    async def ledger(self) -> list[dict[str, Any]]:
        """Return every charge in the ledger (for checks and tests)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True,
                                  "FilterExpression": "kind = :charge",
                                  "ExpressionAttributeValues": {":charge": {"S": "charge"}}}
        while True:
            page = await self.db.scan(**kwargs)
            items += [{"payment_id": i["payment_id"]["S"], "status": i["status"]["S"],
                       "amount": int(i["amount"]["N"]), "currency": i["currency"]["S"],
                       "idempotency_key": i["idempotency_key"]["S"]} for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _answer(item: dict[str, Any]) -> Charge:
    if item["status"]["S"] == "declined":
        raise PaymentDeclined("the card was declined",
                              card_fingerprint=item.get("fingerprint", {}).get("S", ""))
    return Charge(payment_id=item["payment_id"]["S"], amount=int(item["amount"]["N"]),
                  currency=item["currency"]["S"], status=item["status"]["S"])
