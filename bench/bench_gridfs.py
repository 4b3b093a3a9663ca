"""flask-fs's GridFS backend against raw pymongo ``GridFSBucket``, same run, same server.

    hatch run bench:gridfs           # 256 MB save and read, 2,000 small files
    hatch run bench:gridfs --quick   # a smoke run with small sizes

The server is SecantusDB started by services/mongo_secantus.sh unless FS_BENCH_MONGO_URL names
one. Both sides use 255 KiB chunks (GridFS's default).
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from pathlib import Path
from typing import Any

from _harness import (
    Work,
    afterwards,
    case,
    ensure_service,
    enter,
    main,
    read_storage,
    setup,
    source,
    write_read_small,
)
from _shared_cases import NOTES, Backend, register
from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from fs_services import MONGO, mongo_url
from gridfs import GridFSBucket
from pymongo import MongoClient
from pymongo.collection import Collection

import flask_fs as fs

MiB = 1024 * 1024
SMALL = os.urandom(4096)
URL = os.environ.get("FS_BENCH_MONGO_URL", mongo_url())
DATABASE = "flask_fs_bench"
files = fs.Storage("bench", fs.ALL)


def _raw_bucket(name: str) -> GridFSBucket:
    return GridFSBucket(MongoClient(URL)[DATABASE], name)


def _app(bucket: str) -> Flask:
    app = Flask(__name__)
    app.config.update(BENCH_FS_BACKEND="gridfs", BENCH_FS_MONGO_URL=URL, BENCH_FS_MONGO_DB=DATABASE)
    app.config["BENCH_FS_BUCKET"] = bucket
    fs.init_app(app, files)
    return app


@case("save", "raw")
def save_raw(workdir: Path, size: int) -> Work:
    bucket = _raw_bucket(f"raw{uuid.uuid4().hex[:8]}")
    afterwards(lambda: bucket.delete_by_name("big.bin"))

    def work() -> float:
        bucket.upload_from_stream("big.bin", source(size))
        return size / MiB

    return work


@case("save", "fs")
def save_fs(workdir: Path, size: int) -> Work:
    enter(_app(f"fs{uuid.uuid4().hex[:8]}"))
    afterwards(lambda: files.delete("big.bin"))

    def work() -> float:
        files.save(source(size), "big.bin")
        return size / MiB

    return work


@setup("read")
def read_setup(workdir: Path, size: int) -> None:
    _raw_bucket("readraw").upload_from_stream("big.bin", source(size))
    with _app("readfs").app_context():
        files.save(source(size), "big.bin", overwrite=True)


@case("read", "raw")
def read_raw(workdir: Path, size: int) -> Work:
    bucket = _raw_bucket("readraw")

    def work() -> float:
        stream = bucket.open_download_stream_by_name("big.bin")
        total = 0
        while chunk := stream.read(MiB):
            total += len(chunk)
        assert total >= size
        return size / MiB

    return work


@case("read", "fs")
def read_fs(workdir: Path, size: int) -> Work:
    enter(_app("readfs"))
    return read_storage(files, "big.bin", size)


@case("small", "raw")
def small_raw(workdir: Path, count: int) -> Work:
    bucket = _raw_bucket(f"smallraw{uuid.uuid4().hex[:8]}")

    def work() -> float:
        for i in range(count):
            bucket.upload_from_stream(f"{i}.bin", SMALL)
        for i in range(count):
            assert len(bucket.open_download_stream_by_name(f"{i}.bin").read()) == len(SMALL)
        return count

    return work


@case("small", "fs")
def small_fs(workdir: Path, count: int) -> Work:
    enter(_app(f"smallfs{uuid.uuid4().hex[:8]}"))
    return write_read_small(files, count, SMALL)


# -- serving, listing with details, metadata (bench/_shared_cases.py) ------------------------------

SHARED_BUCKET = "shared"


class RawGridFS:
    """The shared cases' raw side: pymongo on the bucket flask-fs uses."""

    def __init__(self) -> None:
        self.bucket = _raw_bucket(SHARED_BUCKET)
        self.files: Collection[Any] = MongoClient(URL)[DATABASE][f"{SHARED_BUCKET}.files"]

    def view(self, name: str) -> ResponseReturnValue:
        """One ``open_download_stream_by_name`` (one query); ``If-None-Match`` compared with
        its ``_id`` (GridFS has no conditional read), else its chunks streamed."""
        stream = self.bucket.open_download_stream_by_name(name)
        etag = f'"{stream._id}"'
        if request.headers.get("If-None-Match") == etag:
            stream.close()
            return Response(status=304, headers={"ETag": etag})
        chunks = iter(lambda: stream.read(stream.chunk_size), b"")  # iter(stream) reads lines
        response = Response(chunks, mimetype="application/octet-stream")
        response.headers.update({"ETag": etag, "Content-Length": str(stream.length)})
        response.last_modified = stream.upload_date
        return response

    def put(self, name: str, data: bytes) -> None:
        self.bucket.upload_from_stream(name, data)

    def list_details(self, prefix: str) -> list[tuple[str, int, object]]:
        query = {"filename": {"$regex": f"^{re.escape(prefix)}"}}
        fields = {"filename": 1, "length": 1, "uploadDate": 1}
        return [
            (d["filename"], d["length"], d["uploadDate"]) for d in self.files.find(query, fields)
        ]


SHARED = register(Backend(files, app=lambda _: _app(SHARED_BUCKET), raw=lambda _: RawGridFS()))


if __name__ == "__main__":
    if "--child" not in sys.argv:
        ping = MongoClient(URL, serverSelectionTimeoutMS=1000).admin.command
        ensure_service(MONGO, lambda: ping("ping"))
    main(
        __file__,
        {
            "save": (256 * MiB, 16 * MiB, "MB/s"),
            "read": (256 * MiB, 16 * MiB, "MB/s"),
            "small": (2_000, 100, "op/s"),
            **SHARED,
        },
        NOTES,
    )
