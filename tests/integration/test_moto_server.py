"""moto as the stack serves it: kept connections, each call to its service, moto's own answers."""

from __future__ import annotations

import http.client
from typing import Any

import boto3
import pytest
from botocore.config import Config

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def moto_port(moto_url: str) -> int:
    """The port of this module's moto server."""
    return int(moto_url.rsplit(":", 1)[1])


def _client(service: str, port: int, **config: Any) -> Any:
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"max_attempts": 1}, **config))


def _list_tables(conn: http.client.HTTPConnection) -> tuple[int, str | None]:
    conn.request("POST", "/", body=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20261127/eu-west-1/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=0"})
    resp = conn.getresponse()
    resp.read()
    return resp.status, resp.getheader("Connection")


def test_one_connection_carries_many_calls(moto_port: int) -> None:
    """Unlike `python -m moto.server` (werkzeug closes after every answer), the connection
    stays open: ten calls, one socket."""
    conn = http.client.HTTPConnection("127.0.0.1", moto_port, timeout=10)
    try:
        answers = [_list_tables(conn) for _ in range(10)]
        socket = conn.sock
        assert socket is not None
        assert all(status == 200 and (header or "").lower() != "close"
                   for status, header in answers), answers
        assert conn.sock is socket  # http.client reconnects silently if the server closed
    finally:
        conn.close()


def test_services_are_told_apart_on_a_kept_connection(moto_port: int) -> None:
    """The remembered host-to-backend lookup still sends each call to its own service."""
    dynamodb, sqs, s3 = (_client(s, moto_port) for s in ("dynamodb", "sqs", "s3"))
    dynamodb.create_table(TableName="kept", BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    queue = sqs.create_queue(QueueName="kept")["QueueUrl"]
    s3.create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": REGION})
    for n in range(3):
        dynamodb.put_item(TableName="kept", Item={"pk": {"S": str(n)}})
        sqs.send_message(QueueUrl=queue, MessageBody=str(n))
        s3.put_object(Bucket="kept", Key=str(n), Body=b"x")
    assert dynamodb.scan(TableName="kept")["Count"] == 3
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "3"
    assert s3.list_objects_v2(Bucket="kept")["KeyCount"] == 3


def test_receive_keeps_the_retention_rule(moto_port: int) -> None:
    """A message within its queue's retention period is received (the period as the API sets
    it, a string), with its receive count, and comes back after its visibility timeout."""
    sqs = _client("sqs", moto_port)
    queue = sqs.create_queue(QueueName="retained", Attributes={
        "MessageRetentionPeriod": "60", "VisibilityTimeout": "0"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="kept")
    for count in ("1", "2"):
        got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1,
                                  MessageSystemAttributeNames=["ApproximateReceiveCount"])
        assert [m["Body"] for m in got["Messages"]] == ["kept"]
        assert got["Messages"][0]["Attributes"]["ApproximateReceiveCount"] == count

