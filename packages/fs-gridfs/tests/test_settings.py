"""The GridFS backend is built from the settings the manual lists, and nothing more (issue 14)."""

from __future__ import annotations

import pytest

from flask_fs.backends.gridfs import GridFsBackend
from flask_fs.errors import ConfigurationError


def test_built_from_the_manuals_two_settings(mongo_url: str, database: str) -> None:
    backend = GridFsBackend("manual", {"mongo_url": mongo_url, "mongo_db": database})
    assert backend.bucket_name == "manual"  # named after the storage, as in 0.4.0
    backend.write("a.txt", "content")
    assert backend.read("a.txt") == b"content"
    backend.write("a.txt", b"replaced")  # the backend level replaces by default
    assert backend.read("a.txt") == b"replaced"
    backend.delete("a.txt")


def test_mongo_db_is_required_and_types_are_checked(mongo_url: str) -> None:
    with pytest.raises(ConfigurationError, match="'files': MONGO_DB is required"):
        GridFsBackend("files", {"mongo_url": mongo_url})
    with pytest.raises(ConfigurationError, match="CHUNK_SIZE must be an int, not 'four'"):
        GridFsBackend("files", {"mongo_url": mongo_url, "mongo_db": "db", "chunk_size": "four"})
