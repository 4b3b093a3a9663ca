"""Fixtures of fs-swift's tests: settings for the Swift server, and a raw connection."""

from __future__ import annotations

from typing import Any

import pytest
from swiftclient.client import Connection

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
