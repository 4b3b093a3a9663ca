"""flask-fs's Swift backend against raw python-swiftclient, same run, same Swift all-in-one.

    hatch run bench:swift            # 1 GB save (segmented) and read, 1,000 small files
    hatch run bench:swift --quick

The server is the Swift all-in-one started by services/swift_saio.sh unless FS_BENCH_SWIFT_AUTHURL
names one. Raw uploads use ``SwiftService`` with the same segment size (16 MiB) as flask-fs.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from _harness import (
    Work,
    case,
    ensure_service,
    main,
    read_storage,
    setup,
    source,
    write_read_small,
)
from flask import Flask
from fs_services import SWIFT, SWIFT_SERVER
from swiftclient.client import Connection
from swiftclient.service import SwiftService, SwiftUploadObject

import flask_fs as fs

MiB = 1024 * 1024
SMALL = os.urandom(4096)
AUTHURL = os.environ.get("FS_BENCH_SWIFT_AUTHURL", SWIFT_SERVER.authurl)
USER, KEY = SWIFT_SERVER.user, SWIFT_SERVER.key
CONTAINER = "flask-fs-bench"
SEGMENT = 16 * MiB
files = fs.Storage("bench", fs.ALL)


def _conn() -> Connection:
    return Connection(authurl=AUTHURL, user=USER, key=KEY)


def _app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        BENCH_FS_BACKEND="swift",
        BENCH_FS_AUTHURL=AUTHURL,
        BENCH_FS_USER=USER,
        BENCH_FS_KEY=KEY,
        BENCH_FS_CONTAINER=CONTAINER,
        BENCH_FS_SEGMENT_SIZE=SEGMENT,
    )
    fs.init_app(app, files)
    app.app_context().push()  # popped when the child process exits
    return app


@case("save", "raw")
def save_raw(workdir: Path, size: int) -> Work:
    service = SwiftService(options={"auth": AUTHURL, "user": USER, "key": KEY})
    options = {"segment_size": SEGMENT, "use_slo": True, "checksum": False}

    def work() -> float:
        upload = SwiftUploadObject(source(size), object_name=f"raw/{uuid.uuid4().hex}")
        for result in service.upload(CONTAINER, [upload], options=options):
            assert result["success"], result
        return size / MiB

    return work


@case("save", "fs")
def save_fs(workdir: Path, size: int) -> Work:
    _app()

    def work() -> float:
        files.save(source(size), f"fs/{uuid.uuid4().hex}")
        return size / MiB

    return work


@setup("read")
def read_setup(workdir: Path, size: int) -> None:
    _app()
    files.save(source(size), "read/big.bin", overwrite=True)


@case("read", "raw")
def read_raw(workdir: Path, size: int) -> Work:
    conn = _conn()

    def work() -> float:
        _, body = conn.get_object(CONTAINER, "read/big.bin", resp_chunk_size=MiB)
        total = sum(len(chunk) for chunk in body)
        assert total == size
        return size / MiB

    return work


@case("read", "fs")
def read_fs(workdir: Path, size: int) -> Work:
    _app()
    return read_storage(files, "read/big.bin", size)


@case("small", "raw")
def small_raw(workdir: Path, count: int) -> Work:
    conn = _conn()
    prefix = f"raw-small-{uuid.uuid4().hex}/"

    def work() -> float:
        for i in range(count):
            conn.put_object(CONTAINER, f"{prefix}{i}.bin", contents=SMALL)
        for i in range(count):
            assert len(conn.get_object(CONTAINER, f"{prefix}{i}.bin")[1]) == len(SMALL)
        return count

    return work


@case("small", "fs")
def small_fs(workdir: Path, count: int) -> Work:
    _app()
    return write_read_small(files, count, SMALL, prefix=f"fs-small-{uuid.uuid4().hex}/")


if __name__ == "__main__":
    if "--child" not in sys.argv:
        ensure_service(SWIFT, lambda: _conn().get_auth())
        _conn().put_container(CONTAINER)
    main(
        __file__,
        {
            "save": (1024 * MiB, 32 * MiB, "MB/s"),
            "read": (1024 * MiB, 32 * MiB, "MB/s"),
            "small": (1_000, 50, "op/s"),
        },
    )
