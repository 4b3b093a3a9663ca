"""Fixtures of fs-gridfs's tests: a database on the MongoDB server, and a raw client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient


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
