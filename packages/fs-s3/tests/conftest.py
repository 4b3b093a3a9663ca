"""Fixtures of fs-s3's tests: a bucket on each S3 server, and raw boto3 clients to check with."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from flask_fs.testing.faults import FaultProxy, fault_proxy

BUCKET = "flask-fs-tests"


def raw_client(server: Any) -> Any:
    """A plain boto3 client for ``server``: what the tests check the backend's work with."""
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


@pytest.fixture(scope="session")
def bucket() -> str:
    """The bucket the tests share (each storage has its own prefix in it)."""
    return BUCKET


@pytest.fixture(scope="session")
def make_raw_client() -> Any:
    """A factory of plain boto3 clients, given a server."""
    return raw_client


@pytest.fixture(scope="session")
def s3(s3_server: Any) -> Any:
    client = raw_client(s3_server)
    try:
        client.create_bucket(Bucket=BUCKET)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    return client


@pytest.fixture
def s3_settings(s3_server: Any, s3: Any) -> dict[str, Any]:
    """Storage settings for the server under test; each storage gets its own key prefix."""
    return {
        "ENDPOINT": s3_server.endpoint,
        "REGION": s3_server.region,
        "ACCESS_KEY": s3_server.access_key,
        "SECRET_KEY": s3_server.secret_key,
        "BUCKET": BUCKET,
        "PREFIX": "{name}/",
        "ADDRESSING_STYLE": "path",
    }


def count_requests(storage: Any, action: Callable[[], Any]) -> int:
    """How many HTTP requests the backend's boto3 clients send while ``action`` runs (botocore's
    ``before-send`` event fires once per request actually sent, retries included)."""
    sent: list[str] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(f"{request.method} {request.url}")

    backend: Any = storage.backend
    clients = (backend.client, backend.create_only_client)
    for client in clients:
        client.meta.events.register("before-send.s3", record)
    try:
        action()
    finally:
        for client in clients:
            client.meta.events.unregister("before-send.s3", record)
    return len(sent)


@pytest.fixture(scope="session")
def count_s3_requests() -> Callable[[Any, Callable[[], Any]], int]:
    """:func:`count_requests`: ``count(storage, action)``."""
    return count_requests


@pytest.fixture
def proxy(s3_settings: dict[str, Any]) -> Iterator[FaultProxy]:
    """A proxy in front of the S3 server under test (it counts requests, and loses some)."""
    address = urlsplit(s3_settings["ENDPOINT"])
    with fault_proxy((address.hostname or "127.0.0.1", address.port or 80)) as proxy:
        yield proxy
