"""What is particular to the GridFS backend: races, chunks, errors, compatibility."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from gridfs import GridFSBucket
from pymongo import MongoClient

import flask_fs as fs
from flask_fs.backends.gridfs import READ_BATCH
from flask_fs.errors import BackendError, ConfigurationError, FileExists, FileNotFound
from flask_fs.testing import temporary_storage

KiB = 1024


@pytest.fixture
def storage(gridfs_settings: dict[str, Any]) -> Iterator[fs.Storage]:
    with temporary_storage("gridfs", gridfs_settings, "grid", CHUNK_SIZE=64 * KiB) as storage:
        yield storage


def _collections(mongo: MongoClient[Any], database: str, storage: fs.Storage) -> Any:
    db = mongo[database]
    bucket = storage.backend.bucket_name  # type: ignore[attr-defined]
    return db[f"{bucket}.files"], db[f"{bucket}.chunks"]


def test_mongo_db_is_required(mongo_url: str) -> None:
    app = Flask(__name__)
    app.config.update(FILES_FS_BACKEND="gridfs", FILES_FS_MONGO_URL=mongo_url)
    with pytest.raises(ConfigurationError, match="MONGO_DB"):
        fs.init_app(app, fs.Storage("files"))


def test_a_bad_url_is_a_configuration_error() -> None:
    app = Flask(__name__)
    app.config.update(
        FILES_FS_BACKEND="gridfs", FILES_FS_MONGO_URL="notmongo://x", FILES_FS_MONGO_DB="db"
    )
    with pytest.raises(ConfigurationError, match=r"'files'.*MONGO_URL"):
        fs.init_app(app, fs.Storage("files"))


def test_an_unreachable_server_fails_within_the_selection_timeout() -> None:
    settings = {
        "MONGO_URL": "mongodb://127.0.0.1:9/?directConnection=true",  # nothing listens there
        "MONGO_DB": "db",
        "CLIENT_OPTIONS": {"serverSelectionTimeoutMS": 500},
    }
    with temporary_storage("gridfs", settings, "grid") as storage:
        start = time.monotonic()
        with pytest.raises(BackendError, match="ServerSelectionTimeoutError") as info:
            storage.read("a.txt")
        assert time.monotonic() - start < 5
        assert storage.name in str(info.value)


def test_files_are_plain_gridfs_files(
    storage: fs.Storage, mongo: MongoClient[Any], database: str
) -> None:
    content = hashlib.sha256(b"x").digest() * 10_000  # 320,000 bytes: 5 chunks of 64 KiB
    storage.write("dir/a.bin", content)
    bucket = GridFSBucket(mongo[database], storage.backend.bucket_name)  # type: ignore[attr-defined]
    assert bucket.open_download_stream_by_name("dir/a.bin").read() == content
    files, chunks = _collections(mongo, database, storage)
    document = files.find_one({"filename": "dir/a.bin"})
    assert document["chunkSize"] == 64 * KiB
    assert document["metadata"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert chunks.count_documents({"files_id": document["_id"]}) == 5


def test_racing_writers_one_winner_and_no_orphan_chunks(
    storage: fs.Storage, mongo: MongoClient[Any], database: str
) -> None:
    racers = 16
    backend = storage.backend
    payloads = [bytes([65 + i]) * (200 * KiB) for i in range(racers)]  # 4 chunks each
    barrier = threading.Barrier(racers)

    def save(i: int) -> bool:
        barrier.wait()
        try:
            backend.save(io.BytesIO(payloads[i]), "race.bin", overwrite=False)
        except FileExists:
            return False
        return True

    with ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(save, range(racers)))
    assert results.count(True) == 1
    assert storage.read("race.bin") == payloads[results.index(True)]
    files, chunks = _collections(mongo, database, storage)
    assert files.count_documents({}) == 1
    assert chunks.count_documents({}) == 4


def test_overwrite_removes_the_old_chunks(
    storage: fs.Storage, mongo: MongoClient[Any], database: str
) -> None:
    storage.write("a.bin", b"1" * (130 * KiB))
    storage.write("a.bin", b"2" * (10 * KiB), overwrite=True)
    assert storage.read("a.bin") == b"2" * (10 * KiB)
    files, chunks = _collections(mongo, database, storage)
    assert files.count_documents({}) == 1
    assert chunks.count_documents({}) == 1
    storage.delete("a.bin")
    assert files.count_documents({}) == chunks.count_documents({}) == 0


def test_a_discarded_upload_leaves_no_chunks(
    storage: fs.Storage, mongo: MongoClient[Any], database: str
) -> None:
    with pytest.raises(RuntimeError), storage.open("a.bin", "wb") as f:
        f.write(b"x" * (20 * 1024 * KiB))  # several insert batches
        raise RuntimeError("interrupted")
    files, chunks = _collections(mongo, database, storage)
    assert files.count_documents({}) == chunks.count_documents({}) == 0


def test_a_stream_whose_file_is_replaced_is_old_content_or_an_error(storage: fs.Storage) -> None:
    size = 2 * READ_BATCH  # two round trips of chunks
    storage.write("a.bin", b"1" * size)
    with storage.open("a.bin", "rb") as f:
        first = f.read(1024)  # the first batch of chunks has arrived; the second has not
        storage.write("a.bin", b"2" * size, overwrite=True)
        try:  # whether the server still returns the deleted chunks depends on its cursors
            rest = f.read()
        except FileNotFound as exc:
            rest = str(exc).encode()
        assert first + rest == b"1" * size or b"replaced while read" in rest
    assert storage.read("a.bin") == b"2" * size


def test_missing_chunks_are_detected(
    storage: fs.Storage, mongo: MongoClient[Any], database: str
) -> None:
    storage.write("a.bin", b"x" * (256 * KiB))
    _, chunks = _collections(mongo, database, storage)
    stream = storage.open("a.bin", "rb")
    chunks.delete_one({"n": 2})
    with stream, pytest.raises(FileNotFound, match="replaced while read"):
        stream.read()


def test_seek_reads_from_the_right_chunk(storage: fs.Storage) -> None:
    content = bytes(range(256)) * 1024  # 256 KiB: 4 chunks
    storage.write("a.bin", content)
    with storage.open("a.bin", "rb") as f:
        f.seek(200_000)
        assert f.read(100) == content[200_000:200_100]
        f.seek(10)
        assert f.read(10) == content[10:20]


def test_listing_uses_ranges_not_regexes(storage: fs.Storage) -> None:
    for name in ("a.txt", "a/b.txt", "a.b/c", "ab", "b", "a[.*]"):
        storage.write(name, b"x")
    assert list(storage.list_files("a.")) == ["a.b/c", "a.txt"]
    assert list(storage.list_files("a[")) == ["a[.*]"]
    assert list(storage.list_files("a/")) == ["a/b.txt"]


def test_listing_with_details_is_one_query(
    counted_gridfs_settings: dict[str, Any],
    command_log: Any,
    mongo: MongoClient[Any],
    database: str,
) -> None:
    with temporary_storage("gridfs", counted_gridfs_settings, "grid") as storage:
        for index in range(300):
            storage.write(f"f/{index:03d}.txt", b"x" * index)
        bucket = GridFSBucket(mongo[database], storage.backend.bucket_name)  # type: ignore[attr-defined]
        bucket.upload_from_stream("f/000.txt", io.BytesIO(b"newer"))  # a second revision
        details: list[fs.FileInfo] = []
        commands = command_log.count(
            storage, lambda: details.extend(storage.list_files("f/", details=True))
        )
        sizes = [info.size for info in details]
        assert sizes == [len(b"newer"), *range(1, 300)]
        assert details[1].checksum == "sha256:" + hashlib.sha256(b"x").hexdigest()
        assert details[0].checksum is None  # a revision written by another tool
        plain = command_log.count(storage, lambda: list(storage.list_files("f/")))
        assert 1 <= commands == plain <= 2  # one find, and a getMore past its first batch
