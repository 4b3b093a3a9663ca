"""Fixtures of fs-swift's tests: settings for the Swift server, and a raw connection."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
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


class _RequestLog(logging.Handler):
    """Collects swiftclient's request log: one ``REQ: curl ...`` line per request sent."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.requests: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("REQ:"):
            self.requests.append(record.getMessage())


def count_requests(storage: Any, action: Callable[[], Any]) -> int:
    """How many HTTP requests swiftclient sends while ``action`` runs, read from its own request
    log (it logs each request it sends)."""
    logger = logging.getLogger("swiftclient")
    log, level = _RequestLog(), logger.level
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)
    try:
        action()
    finally:
        logger.removeHandler(log)
        logger.setLevel(level)
    return len(log.requests)


@pytest.fixture(scope="session")
def count_swift_requests() -> Callable[[Any, Callable[[], Any]], int]:
    """:func:`count_requests`: ``count(storage, action)``."""
    return count_requests


@pytest.fixture
def proxy(swift_settings: dict[str, Any]) -> Iterator[FaultProxy]:
    """A proxy in front of the Swift server (whose storage URL then points at the proxy too):
    it counts requests."""
    address = urlsplit(swift_settings["AUTHURL"])
    with fault_proxy((address.hostname or "127.0.0.1", address.port or 80)) as proxy:
        yield proxy


@pytest.fixture
def formpost(swift: Connection) -> None:
    """Skips a test of FormPosts on a Swift server without the formpost middleware."""
    if "formpost" not in swift.get_capabilities():
        pytest.skip("this Swift server has no formpost middleware (services/swift_saio.sh has)")
