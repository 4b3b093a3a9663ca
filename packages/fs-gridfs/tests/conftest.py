"""Fixtures of fs-gridfs's tests: a database on the MongoDB server, and a raw client."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo import MongoClient, monitoring


@pytest.fixture(scope="session")
def mongo(mongo_url: str) -> Iterator[MongoClient[Any]]:
    client: MongoClient[Any] = MongoClient(mongo_url, serverSelectionTimeoutMS=10_000)
    yield client
    client.close()


@pytest.fixture(scope="session")
def database(mongo: MongoClient[Any]) -> str:
    """A database of its own for this test session."""
    return f"flask_fs_tests_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def gridfs_settings(mongo_url: str, database: str) -> dict[str, Any]:
    return {"MONGO_URL": mongo_url, "MONGO_DB": database}


class CommandLog(monitoring.CommandListener):
    """The commands a client sends (pymongo's command monitoring), while recording."""

    def __init__(self) -> None:
        self.commands: list[str] | None = None
        self.lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self.lock:
            if self.commands is not None:
                self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def count(self, storage: Any, action: Callable[[], Any]) -> int:
        """How many commands the storage's client sends while ``action`` runs (the storage must
        use this log: ``CLIENT_OPTIONS={"event_listeners": [log]}``)."""
        with self.lock:
            self.commands = []
        try:
            action()
        finally:
            with self.lock:
                sent, self.commands = self.commands, None
        return len(sent)


#: One log for the session: storages with it in their client options share one client.
COMMAND_LOG = CommandLog()


@pytest.fixture
def command_log() -> CommandLog:
    return COMMAND_LOG


@pytest.fixture
def counted_gridfs_settings(gridfs_settings: dict[str, Any]) -> dict[str, Any]:
    """:func:`gridfs_settings`, the storages' commands seen by :data:`COMMAND_LOG`."""
    return {**gridfs_settings, "CLIENT_OPTIONS": {"event_listeners": [COMMAND_LOG]}}
