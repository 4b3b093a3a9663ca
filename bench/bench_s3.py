"""flask-fs's S3 backend against raw boto3 doing the same work, same run, on SeaweedFS.

    hatch run bench:s3               # 1 GB save and read, 2,000 small files, 10,000 keys listed
    hatch run bench:s3 --quick       # a smoke run with small sizes

The server is SeaweedFS started by services/seaweed_s3.sh (unless FS_BENCH_S3_ENDPOINT names
one). Raw boto3 uses the same TransferConfig as flask-fs (8 MiB parts, 4 threads), so the ratio
is the library's cost: hashing the content, tagging the object with its SHA-256, name checks.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
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
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Flask, Response, request
from flask.typing import ResponseReturnValue
from fs_services import SEAWEED, SEAWEED_S3

import flask_fs as fs

MiB = 1024 * 1024
SMALL = os.urandom(4096)
ENDPOINT = os.environ.get("FS_BENCH_S3_ENDPOINT", SEAWEED_S3.endpoint)
ACCESS_KEY = os.environ.get("FS_BENCH_S3_ACCESS_KEY", SEAWEED_S3.access_key)
SECRET_KEY = os.environ.get("FS_BENCH_S3_SECRET_KEY", SEAWEED_S3.secret_key)
BUCKET = "flask-fs-bench"
files = fs.Storage("bench", fs.ALL)


def _client() -> Any:
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=16),
    )


def _transfer_config() -> TransferConfig:
    config = TransferConfig(
        multipart_threshold=8 * MiB,
        multipart_chunksize=8 * MiB,
        max_concurrency=4,
        max_io_queue=8,
        io_chunksize=256 * 1024,
        preferred_transfer_client="classic",
    )
    config.max_in_memory_upload_chunks = 4
    config.max_in_memory_download_chunks = 4
    return config


def _app(prefix: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        BENCH_FS_BACKEND="s3",
        BENCH_FS_ENDPOINT=ENDPOINT,
        BENCH_FS_ACCESS_KEY=ACCESS_KEY,
        BENCH_FS_SECRET_KEY=SECRET_KEY,
        BENCH_FS_BUCKET=BUCKET,
        BENCH_FS_PREFIX=prefix,
        BENCH_FS_ADDRESSING_STYLE="path",
    )
    fs.init_app(app, files)
    return app


# -- large files ---------------------------------------------------------------------------------


@case("save", "raw")
def save_raw(workdir: Path, size: int) -> Work:
    client = _client()

    key = f"raw/{uuid.uuid4().hex}"
    afterwards(lambda: client.delete_object(Bucket=BUCKET, Key=key))

    def work() -> float:
        client.upload_fileobj(source(size), BUCKET, key, Config=_transfer_config())
        return size / MiB

    return work


@case("save", "fs")
def save_fs(workdir: Path, size: int) -> Work:
    enter(_app(f"fs-{uuid.uuid4().hex}"))
    afterwards(lambda: files.delete("big.bin"))

    def work() -> float:
        files.save(source(size), "big.bin")
        return size / MiB

    return work


@setup("read")
def read_setup(workdir: Path, size: int) -> None:
    _client().upload_fileobj(source(size), BUCKET, "read/big.bin", Config=_transfer_config())


@case("read", "raw")
def read_raw(workdir: Path, size: int) -> Work:
    client = _client()

    def work() -> float:
        body = client.get_object(Bucket=BUCKET, Key="read/big.bin")["Body"]
        total = 0
        while chunk := body.read(MiB):
            total += len(chunk)
        assert total == size
        return size / MiB

    return work


@case("read", "fs")
def read_fs(workdir: Path, size: int) -> Work:
    enter(_app("read"))
    return read_storage(files, "big.bin", size)


# -- small files and listing ---------------------------------------------------------------------


@case("small", "raw")
def small_raw(workdir: Path, count: int) -> Work:
    client = _client()
    prefix = f"raw-small-{uuid.uuid4().hex}/"

    def work() -> float:
        for i in range(count):
            client.put_object(Bucket=BUCKET, Key=f"{prefix}{i}.bin", Body=SMALL)
        for i in range(count):
            body = client.get_object(Bucket=BUCKET, Key=f"{prefix}{i}.bin")["Body"]
            assert len(body.read()) == len(SMALL)
        return count

    return work


@case("small", "fs")
def small_fs(workdir: Path, count: int) -> Work:
    enter(_app(f"fs-small-{uuid.uuid4().hex}"))
    return write_read_small(files, count, SMALL)


@setup("list")
def list_setup(workdir: Path, count: int) -> None:
    client = _client()
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: client.put_object(Bucket=BUCKET, Key=f"list-{count}/{i:06d}", Body=b""),
                range(count),
            )
        )


@case("list", "raw")
def list_raw(workdir: Path, count: int) -> Work:
    client = _client()

    def work() -> float:
        listed = 0
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=f"list-{count}/"
        ):
            listed += len(page.get("Contents", ()))
        assert listed == count
        return count

    return work


@case("list", "fs")
def list_fs(workdir: Path, count: int) -> Work:
    enter(_app(f"list-{count}"))

    def work() -> float:
        listed = sum(1 for _ in files.list_files())
        assert listed == count
        return count

    return work


# -- serving, listing with details, metadata (bench/_shared_cases.py) ------------------------------


class RawS3:
    """The shared cases' raw side: boto3 on the keys flask-fs uses (no prefix)."""

    def __init__(self) -> None:
        self.client = _client()

    def view(self, name: str) -> ResponseReturnValue:
        """One ``get_object``, ``If-None-Match`` passed on, its body streamed."""
        etag = request.headers.get("If-None-Match")
        try:
            got = self.client.get_object(
                Bucket=BUCKET, Key=name, **({"IfNoneMatch": etag} if etag else {})
            )
        except ClientError as exc:
            meta = exc.response["ResponseMetadata"]
            if meta["HTTPStatusCode"] != 304:
                raise
            return Response(status=304, headers={"ETag": meta["HTTPHeaders"].get("etag", "")})
        headers = {"ETag": got["ETag"], "Content-Length": str(got["ContentLength"])}
        response = Response(got["Body"].iter_chunks(64 * 1024), mimetype=got["ContentType"])
        response.headers.update(headers)
        response.last_modified = got["LastModified"]
        return response

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=BUCKET, Key=name, Body=data)

    def list_details(self, prefix: str) -> list[tuple[str, int, object]]:
        return [
            (item["Key"], item["Size"], item["LastModified"])
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix=prefix
            )
            for item in page.get("Contents", ())
        ]


SHARED = register(Backend(files, app=lambda _: _app(""), raw=lambda _: RawS3()))


if __name__ == "__main__":
    import sys

    if "--child" not in sys.argv:
        ensure_service(SEAWEED, lambda: _client().list_buckets())
        with contextlib.suppress(ClientError):  # it exists already
            _client().create_bucket(Bucket=BUCKET)
    main(
        __file__,
        {
            "save": (1024 * MiB, 32 * MiB, "MB/s"),
            "read": (1024 * MiB, 32 * MiB, "MB/s"),
            "small": (2_000, 100, "op/s"),
            "list": (10_000, 500, "op/s"),
            **SHARED,
        },
        NOTES,
    )
