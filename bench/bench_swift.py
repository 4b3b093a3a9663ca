"""flask-fs's Swift backend against raw python-swiftclient, same run, same Swift all-in-one.

    hatch run bench:swift            # 1 GB save (segmented) and read, 1,000 small files
    hatch run bench:swift --quick

The server is the Swift all-in-one started by services/swift_saio.sh unless FS_BENCH_SWIFT_AUTHURL
names one. Raw uploads use ``SwiftService`` with the same segment size (16 MiB) as flask-fs.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path

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
from fs_services import SWIFT, SWIFT_SERVER
from swiftclient.client import Connection
from swiftclient.exceptions import ClientException
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
    return app


@case("save", "raw")
def save_raw(workdir: Path, size: int) -> Work:
    service = SwiftService(options={"auth": AUTHURL, "user": USER, "key": KEY})
    options = {"segment_size": SEGMENT, "use_slo": True, "checksum": False}

    name = f"raw/{uuid.uuid4().hex}"
    afterwards(lambda: [r for r in service.delete(CONTAINER, [name]) if not r["success"]])

    def work() -> float:
        upload = SwiftUploadObject(source(size), object_name=name)
        for result in service.upload(CONTAINER, [upload], options=options):
            assert result["success"], result
        return size / MiB

    return work


@case("save", "fs")
def save_fs(workdir: Path, size: int) -> Work:
    enter(_app())
    name = f"fs/{uuid.uuid4().hex}"
    afterwards(lambda: files.delete(name))

    def work() -> float:
        files.save(source(size), name)
        return size / MiB

    return work


@setup("read")
def read_setup(workdir: Path, size: int) -> None:
    with _app().app_context():
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
    enter(_app())
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
    enter(_app())
    return write_read_small(files, count, SMALL, prefix=f"fs-small-{uuid.uuid4().hex}/")


# -- serving, listing with details, metadata (bench/_shared_cases.py) ------------------------------


class RawSwift(threading.local):
    """The shared cases' raw side: swiftclient on the container flask-fs uses; one connection
    per thread (a ``Connection`` is not thread-safe)."""

    def __init__(self) -> None:
        self.conn = _conn()

    def view(self, name: str) -> ResponseReturnValue:
        """One ``get_object``, ``If-None-Match`` passed on, its body streamed."""
        etag = request.headers.get("If-None-Match")
        try:
            headers, body = self.conn.get_object(
                CONTAINER,
                name,
                resp_chunk_size=64 * 1024,
                headers={"If-None-Match": etag} if etag else {},
            )
        except ClientException as exc:
            if exc.http_status != 304:
                raise
            return Response(status=304, headers={"ETag": exc.http_response_headers["etag"]})
        response = Response(body, mimetype=headers["content-type"])
        response.headers.update(
            {
                "ETag": '"' + headers["etag"].strip('"') + '"',
                "Content-Length": headers["content-length"],
                "Last-Modified": headers["last-modified"],
            }
        )
        return response

    def put(self, name: str, data: bytes) -> None:
        self.conn.put_object(CONTAINER, name, contents=data)

    def list_details(self, prefix: str) -> list[tuple[str, int, object]]:
        _, listing = self.conn.get_container(CONTAINER, prefix=prefix, full_listing=True)
        return [(item["name"], item["bytes"], item["last_modified"]) for item in listing]


SHARED = register(Backend(files, app=lambda _: _app(), raw=lambda _: RawSwift()))


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
            **SHARED,
        },
        NOTES,
    )
