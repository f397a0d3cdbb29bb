"""One aioboto3 session per process; botocore reads AWS_ENDPOINT_URL itself on the local stack."""

from __future__ import annotations

import os

import aioboto3
from botocore.config import Config

# Standard retry mode backs off on throttling and 5xx; bounded so a caller's own timeout wins.
BOTO_CONFIG = Config(retries={"max_attempts": 4, "mode": "standard"},
                     connect_timeout=2, read_timeout=5, max_pool_connections=50)


def session() -> aioboto3.Session:
    """Return an aioboto3 session for the configured region."""
    return aioboto3.Session(region_name=os.environ.get("AWS_REGION")
                            or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1")

