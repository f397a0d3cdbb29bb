"""With moto enforcing IAM, each process calls AWS with its own template role, and suffices.

The local stack creates each task and function role of the template in moto (actions only:
moto does not evaluate resources or conditions), hands every process its role's temporary
credentials, and turns enforcement on. The whole booking path passing proves every call the
code makes is granted by its role; a call outside a role is refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import boto3
import pytest
from botocore.exceptions import ClientError

from itinera.auth import LocalIssuer
from localaws.stack import LocalStack
from tests.e2e.helpers import auth, book, find_flight, hold_seats, wait_for_email, wait_for_status
from tests.stacks import own_stack


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A second local stack whose emulator enforces IAM."""
    with own_stack("iam", tmp_path_factory.mktemp("iam-stack"), enforce_iam=True) as running:
        yield running


def client(stack: LocalStack, service: str, process: str) -> object:
    """Return a boto3 client calling the emulator as *process* (its role's credentials)."""
    env = stack.aws_credentials(process)
    return boto3.client(service, region_name=stack.config.region,
                        endpoint_url=stack.config.moto_url,
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=env.get("AWS_SESSION_TOKEN"))


async def test_the_booking_path_passes_with_every_call_granted_by_its_own_role(
        enforcing: LocalStack) -> None:
    """GIVEN each process holding only its template role, WHEN a traveller holds, pays,
    gets the confirmation e-mail and cancels, THEN everything succeeds and no process was
    refused a call."""
    cfg = enforcing.config
    url = f"http://127.0.0.1:{cfg.gateway_port}"
    token = LocalIssuer(cfg.state_dir / "jwt").mint("iris")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        flight = await find_flight(http, url, seats=1)
        hold = await hold_seats(http, url, token, flight["id"], 1)
        status, started = await book(http, url, token, hold["id"], "4242424242424242",
                                     email="iris@example.com")
        assert status == 202, started
        booking = await wait_for_status(http, url, token, started["booking_id"])
        assert booking["status"] == "confirmed", booking
        emails = await wait_for_email(http, cfg.moto_url, to="iris@example.com",
                                      containing=booking["booking_id"])
        assert len(emails) == 1
        async with http.post(f"{url}/v1/bookings/{booking['booking_id']}/cancel",
                             headers=auth(token)) as resp:
            assert resp.status == 202, await resp.text()
        cancelled = await wait_for_status(http, url, token, booking["booking_id"],
                                          passing=("confirmed", "cancelling"))
        assert cancelled["status"] == "cancelled", cancelled
    logs = "\n".join(p.read_text(errors="replace") for p in (cfg.state_dir / "logs").glob("*"))
    assert "AccessDenied" not in logs


def test_a_call_outside_the_role_is_refused(enforcing: LocalStack) -> None:
    """An action a role does not grant is refused: the notifier may not query bookings nor
    feed the checkout queue, the checkout API may not publish booking events (the worker
    may), the gateway may call nothing; keys moto does not know are refused. (moto judges
    actions, not resources: which table or queue is the template tests' business.)"""
    deployed = enforcing.deployed
    assert deployed is not None
    with pytest.raises(ClientError, match="AccessDenied"):
        client(enforcing, "dynamodb", "notifier").query(  # type: ignore[attr-defined]
            TableName=deployed.ref("BookingsTable"), KeyConditionExpression="booking_id = :b",
            ExpressionAttributeValues={":b": {"S": "x"}})
    with pytest.raises(ClientError, match="AccessDenied"):
        client(enforcing, "sqs", "notifier").send_message(  # type: ignore[attr-defined]
            QueueUrl=deployed.ref("CheckoutQueue"), MessageBody="{}")
    topic = deployed.ref("BookingEventsTopic")
    with pytest.raises(ClientError, match="AccessDenied"):
        client(enforcing, "sns", "CheckoutApiFunction").publish(  # type: ignore[attr-defined]
            TopicArn=topic, Message="{}")
    client(enforcing, "sns", "CheckoutWorkerFunction").publish(  # type: ignore[attr-defined]
        TopicArn=topic, Message="{}", MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": "iam.probe"}})
    with pytest.raises(ClientError, match="AccessDenied"):
        client(enforcing, "dynamodb", "gateway").list_tables()  # type: ignore[attr-defined]
    stranger = boto3.client("sqs", region_name=enforcing.config.region,
                            endpoint_url=enforcing.config.moto_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    with pytest.raises(ClientError):
        stranger.send_message(QueueUrl=deployed.ref("CheckoutQueue"), MessageBody="{}")
