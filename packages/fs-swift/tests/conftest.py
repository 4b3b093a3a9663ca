"""Fixtures of fs-swift's tests: settings for the Swift server, and a raw connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from swiftclient.client import Connection

from flask_fs.testing.faults import FaultProxy, fault_proxy

CONTAINER = "flask-fs-tests"


@pytest.fixture(scope="session")
def swift(swift_server: Any) -> Connection:
    """A plain swiftclient connection, to check the backend's work with."""
    conn = Connection(authurl=swift_server.authurl, user=swift_server.user, key=swift_server.key)
    conn.put_container(CONTAINER)
    return conn


@pytest.fixture
def swift_settings(swift_server: Any, swift: Connection) -> dict[str, Any]:
    return {
        "AUTHURL": swift_server.authurl,
        "USER": swift_server.user,
        "KEY": swift_server.key,
        "CONTAINER": "{name}",
        "RETRIES": 1,
    }


@pytest.fixture
def proxy(swift_settings: dict[str, Any]) -> Iterator[FaultProxy]:
    """A proxy in front of the Swift server (whose storage URL then points at the proxy too):
    it counts requests."""
    address = urlsplit(swift_settings["AUTHURL"])
    with fault_proxy((address.hostname or "127.0.0.1", address.port or 80)) as proxy:
        yield proxy
