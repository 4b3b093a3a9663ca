"""Publishing when the database's reply is lost: through a TCP proxy that cuts it on purpose.

The server did (or did not) insert the files document; the client only sees its connection cut.
The backend must read back what happened before it cleans up anything.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

import flask_fs as fs
from flask_fs.errors import BackendError
from flask_fs.testing import temporary_storage
from flask_fs.testing.faults import FaultProxy, fault_proxy

KiB = 1024
OLD = b"old content " * 30_000  # 360,000 bytes: several chunks
NEW = b"NEW CONTENT " * 25_000


def command(name: str, collection: str) -> bytes:
    """The bytes that start an OP_MSG command ``{name: collection, ...}``."""
    value = collection.encode() + b"\x00"
    return b"\x02" + name.encode() + b"\x00" + struct.pack("<i", len(value)) + value


@pytest.fixture
def proxy(mongo_url: str) -> Iterator[FaultProxy]:
    address = urlsplit(mongo_url)
    with fault_proxy((address.hostname or "127.0.0.1", address.port or 27017)) as proxy:
        yield proxy


@pytest.fixture
def storage(proxy: FaultProxy, database: str) -> Iterator[fs.Storage]:
    settings = {
        "MONGO_URL": f"mongodb://{proxy.address}/?directConnection=true",
        "MONGO_DB": database,
        "CHUNK_SIZE": 64 * KiB,
        "CLIENT_OPTIONS": {
            "serverSelectionTimeoutMS": 3000,
            "retryWrites": False,
            "retryReads": False,
        },
    }
    with temporary_storage("gridfs", settings, "lost") as storage:
        yield storage


def _files(mongo: MongoClient[Any], database: str, storage: fs.Storage) -> str:
    return f"{storage.backend.bucket_name}.files"  # type: ignore[attr-defined]


def _state(mongo: MongoClient[Any], database: str, storage: fs.Storage) -> tuple[int, int]:
    """(files documents, chunks without a files document) of the storage's bucket."""
    db = mongo[database]
    bucket = storage.backend.bucket_name  # type: ignore[attr-defined]
    ids = {d["_id"] for d in db[f"{bucket}.files"].find({}, {"_id": 1})}
    orphans = db[f"{bucket}.chunks"].count_documents({"files_id": {"$nin": list(ids)}})
    return len(ids), orphans


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_lost_reply_to_a_publication_that_landed_is_a_success(
    storage: fs.Storage, proxy: FaultProxy, mongo: MongoClient[Any], database: str, overwrite: bool
) -> None:
    if overwrite:
        storage.write("a.bin", OLD)
    proxy.lose_reply(command("insert", _files(mongo, database, storage)))
    storage.write("a.bin", NEW, overwrite=overwrite)
    assert proxy.fired == 1
    assert storage.read("a.bin") == NEW
    assert _state(mongo, database, storage) == (1, 0)  # the old revision went; nothing orphaned
    assert storage.sweep(0) == []
    assert storage.read("a.bin") == NEW


def test_a_request_the_server_never_saw_fails_and_keeps_the_old_file(
    storage: fs.Storage, proxy: FaultProxy, mongo: MongoClient[Any], database: str
) -> None:
    storage.write("a.bin", OLD)
    proxy.lose_request(command("insert", _files(mongo, database, storage)))
    with pytest.raises(BackendError, match=r"AutoReconnect|NetworkTimeout|connection"):
        storage.write("a.bin", NEW, overwrite=True)
    assert proxy.fired == 1
    assert storage.read("a.bin") == OLD
    assert _state(mongo, database, storage) == (1, 0)  # the new chunks were removed


def test_when_the_outcome_cannot_be_read_back_no_chunk_is_deleted(
    storage: fs.Storage, proxy: FaultProxy, mongo: MongoClient[Any], database: str
) -> None:
    storage.write("a.bin", OLD)
    files = _files(mongo, database, storage)
    proxy.lose_reply(command("insert", files))
    proxy.lose_request(command("find", files), times=3)  # every read back is cut too
    with pytest.raises(BackendError, match=r"outcome of writing 'a\.bin' is unknown"):
        storage.write("a.bin", NEW, overwrite=True)
    assert proxy.fired == 4
    assert storage.read("a.bin") == NEW  # the server had published it: its chunks are intact
    assert storage.sweep(0) == []
    assert storage.read("a.bin") == NEW
