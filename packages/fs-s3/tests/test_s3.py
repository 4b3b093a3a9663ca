"""What is particular to the S3 backend: settings, multipart, conditional writes, errors, URLs."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.backends.s3 import S3Backend
from flask_fs.errors import BackendError, ConfigurationError, FileExists
from flask_fs.testing import temporary_storage
from flask_fs.testing.faults import FaultProxy

MiB = 1024 * 1024
BUCKET = "flask-fs-tests"  # the bucket fixture's
#: Servers that check If-None-Match on CompleteMultipartUpload before committing, not atomically:
#: racing multipart creators can all win there (sequential ones are refused, and single-request
#: creates are atomic on SeaweedFS and moto). AWS S3 commits them atomically.
NON_ATOMIC_MULTIPART_CREATE = {"seaweed", "moto", "swift-s3api"}
SMALL_PARTS: dict[str, Any] = {"MULTIPART_THRESHOLD": 5 * MiB, "MULTIPART_CHUNKSIZE": 5 * MiB}


@pytest.fixture
def storage(s3_settings: dict[str, Any]) -> Iterator[fs.Storage]:
    with temporary_storage("s3", s3_settings, "s3test") as storage:
        yield storage


@pytest.fixture
def multipart(s3_settings: dict[str, Any]) -> Iterator[fs.Storage]:
    """A storage that switches to multipart uploads at 5 MiB (S3's smallest part)."""
    with temporary_storage("s3", s3_settings, "s3test", **SMALL_PARTS) as storage:
        yield storage


def _prefix(storage: fs.Storage) -> str:
    return storage.backend.key_prefix  # type: ignore[attr-defined, no-any-return]


def _uploads_in_progress(s3: Any, storage: fs.Storage) -> list[Any]:
    response = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=_prefix(storage))
    return list(response.get("Uploads", []))


def test_bucket_defaults_to_the_storage_name() -> None:
    backend = S3Backend("avatars", {"endpoint": "http://127.0.0.1:1"})
    assert backend.bucket == "avatars"
    assert backend.key_prefix == ""
    backend = S3Backend("x", {"bucket": "shared", "prefix": "/a/b/"})
    assert (backend.bucket, backend.key_prefix) == ("shared", "a/b/")


def test_unknown_settings_are_refused() -> None:
    app = Flask(__name__)
    app.config.update(FILES_FS_BACKEND="s3", FILES_FS_BUKET="typo")
    with pytest.raises(ConfigurationError, match="BUKET"):
        fs.init_app(app, fs.Storage("files"))


def test_keys_live_under_the_prefix(storage: fs.Storage, s3: Any) -> None:
    storage.write("a/b.txt", b"x")
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=_prefix(storage))["Contents"]
    ]
    assert keys == [f"{storage.name}/a/b.txt"]
    assert list(storage.list_files()) == ["a/b.txt"]


def test_content_type_and_object_parameters(s3_settings: dict[str, Any], s3: Any) -> None:
    params = {"CacheControl": "max-age=60", "ContentDisposition": "inline"}
    with temporary_storage("s3", s3_settings, "s3test", OBJECT_PARAMETERS=params) as storage:
        storage.write("page.html", b"<p>")
        storage.save(io.BytesIO(b"{}"), "data.json")
        page = s3.head_object(Bucket=BUCKET, Key=_prefix(storage) + "page.html")
        data = s3.head_object(Bucket=BUCKET, Key=_prefix(storage) + "data.json")
        assert page["ContentType"] == "text/html"
        assert data["ContentType"] == "application/json"
        assert page["CacheControl"] == data["CacheControl"] == "max-age=60"


def test_create_bucket(s3_server: Any, s3_settings: dict[str, Any], make_raw_client: Any) -> None:
    bucket = f"fs-created-{uuid.uuid4().hex[:10]}"
    settings = {**s3_settings, "BUCKET": bucket, "CREATE_BUCKET": True}
    with temporary_storage("s3", settings, "s3test") as storage:
        storage.write("a.txt", b"x")
        assert storage.read("a.txt") == b"x"
    client = make_raw_client(s3_server)
    client.head_bucket(Bucket=bucket)
    client.delete_bucket(Bucket=bucket)


def test_create_bucket_outside_us_east_1(moto_s3: Any, make_raw_client: Any) -> None:
    bucket = f"fs-region-{uuid.uuid4().hex[:10]}"
    settings = {
        "ENDPOINT": moto_s3.endpoint,
        "ACCESS_KEY": "test",
        "SECRET_KEY": "test",
        "REGION": "eu-west-2",
        "BUCKET": bucket,
        "CREATE_BUCKET": True,
    }
    with temporary_storage("s3", settings, "s3test") as storage:
        storage.write("a.txt", b"x")
    location = make_raw_client(moto_s3).get_bucket_location(Bucket=bucket)
    assert location["LocationConstraint"] == "eu-west-2"


def test_a_missing_bucket_is_a_clear_error(s3_server: Any, s3_settings: dict[str, Any]) -> None:
    settings = {**s3_settings, "BUCKET": f"fs-missing-{uuid.uuid4().hex[:8]}"}
    app = Flask(__name__)
    storage = fs.Storage("nobucket")
    app.config.update({f"NOBUCKET_FS_{key}": value for key, value in settings.items()})
    app.config["NOBUCKET_FS_BACKEND"] = "s3"
    fs.init_app(app, storage)
    operations: list[Callable[[str], object]] = [
        storage.read,
        lambda name: list(storage.list_files()),
        lambda name: list(storage.list_files(details=True)),
    ]
    if s3_server.name != "seaweed":  # SeaweedFS creates a missing bucket on the first PUT
        operations.append(lambda name: storage.write(name, b"x"))
    with app.app_context():
        for operation in operations:
            with pytest.raises(BackendError, match=r"bucket .* does not exist") as info:
                operation("a.txt")
            assert "'nobucket'" in str(info.value)
            assert s3_server.endpoint in str(info.value)


def test_a_wrong_secret_is_a_clear_error(seaweed_s3: Any) -> None:
    settings = {
        "ENDPOINT": seaweed_s3.endpoint,
        "ACCESS_KEY": seaweed_s3.access_key,
        "SECRET_KEY": "wrong-secret",
        "BUCKET": BUCKET,
    }
    app = Flask(__name__)
    storage = fs.Storage("wrongsecret")
    app.config.update({f"WRONGSECRET_FS_{k}": v for k, v in settings.items()})
    app.config["WRONGSECRET_FS_BACKEND"] = "s3"
    fs.init_app(app, storage)
    with app.app_context():
        with pytest.raises(BackendError, match="SignatureDoesNotMatch") as info:
            storage.write("a.txt", b"x")
        assert "'wrongsecret'" in str(info.value)
        assert seaweed_s3.endpoint in str(info.value)


def test_an_unreachable_endpoint_fails_fast_and_clearly() -> None:
    app = Flask(__name__)
    storage = fs.Storage("unreachable")
    app.config.update(
        UNREACHABLE_FS_BACKEND="s3",
        UNREACHABLE_FS_ENDPOINT="http://127.0.0.1:9",  # discard port: nothing listens
        UNREACHABLE_FS_ACCESS_KEY="k",
        UNREACHABLE_FS_SECRET_KEY="s",
    )
    fs.init_app(app, storage)
    start = time.monotonic()
    with app.app_context(), pytest.raises(BackendError, match=r"127\.0\.0\.1:9") as info:
        storage.read("a.txt")
    assert time.monotonic() - start < 30
    assert "'unreachable'" in str(info.value)


def test_multipart_uploads_store_a_real_checksum(multipart: fs.Storage) -> None:
    content = hashlib.sha256(b"seed").digest() * (11 * MiB // 32)
    multipart.save(FileStorage(io.BytesIO(content), "big.bin"))
    meta = multipart.metadata("big.bin")
    assert meta["size"] == len(content)
    assert meta["checksum"] == "sha256:" + hashlib.sha256(content).hexdigest()
    with multipart.open("streamed.bin", "wb") as f:
        for i in range(0, len(content), MiB):
            f.write(content[i : i + MiB])
    assert multipart.metadata("streamed.bin")["checksum"] == meta["checksum"]


def test_checksum_of_an_object_written_by_another_tool(storage: fs.Storage, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key=_prefix(storage) + "foreign.txt", Body=b"from elsewhere")
    digest = hashlib.sha256(b"from elsewhere").hexdigest()
    assert storage.metadata("foreign.txt")["checksum"] == f"sha256:{digest}"


def test_racing_multipart_writers(s3_server: Any, multipart: fs.Storage, s3: Any) -> None:
    racers = 16
    backend = multipart.backend
    payloads = [bytes([65 + i]) * (6 * MiB) for i in range(racers)]
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
    winners = [payloads[i] for i, won in enumerate(results) if won]
    if s3_server.name in NON_ATOMIC_MULTIPART_CREATE:
        assert winners
    else:
        assert len(winners) == 1
    assert multipart.read("race.bin") in winners  # one writer's whole content, never a mix
    assert _uploads_in_progress(s3, multipart) == []


def test_an_interrupted_multipart_upload_leaves_nothing(multipart: fs.Storage, s3: Any) -> None:
    with pytest.raises(RuntimeError), multipart.open("big.bin", "wb") as f:
        for _ in range(12):
            f.write(b"x" * MiB)
        raise RuntimeError("interrupted")
    assert not multipart.exists("big.bin")
    assert _uploads_in_progress(s3, multipart) == []


def test_listing_paginates_past_1000_keys(storage: fs.Storage, count_s3_requests: Any) -> None:
    backend = storage.backend
    names = [f"many/{i:05d}.txt" for i in range(1100)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: backend.write(n, b"x"), names))
    assert sorted(storage.list_files("many/")) == names
    details: list[fs.FileInfo] = []
    requests = count_s3_requests(storage, lambda: details.extend(storage.list_files(details=True)))
    assert [(i.name, i.size) for i in details] == [(n, 1) for n in names]
    assert requests == 2  # two pages of ListObjectsV2, no HEAD


def test_signed_urls(s3_settings: dict[str, Any]) -> None:
    with temporary_storage(
        "s3", s3_settings, "s3test", SIGNED_URLS=True, SIGNED_URL_EXPIRY=60
    ) as storage:
        storage.write("a.txt", b"signed content")
        assert storage.has_url
        url = storage.url("a.txt")
        assert url is not None
        assert "Signature=" in url or "X-Amz-Signature=" in url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"signed content"


def test_serve_can_redirect_to_a_signed_url(s3_settings: dict[str, Any], proxy: FaultProxy) -> None:
    """Without asking the server anything, nor a Cache-Control that would outlive the URL."""
    settings = {**s3_settings, "ENDPOINT": f"http://{proxy.address}"}
    with temporary_storage(
        "s3", settings, "s3test", SERVE_REDIRECT=True, CACHE_CONTROL="max-age=86400"
    ) as storage:
        storage.write("a.txt", b"x")
        proxy.clear()
        response = storage.serve("a.txt")
        assert response.status_code == 302
        assert "a.txt" in response.headers["Location"]
        assert proxy.requests() == []
        assert "max-age" not in response.headers.get("Cache-Control", "")
        with urllib.request.urlopen(response.headers["Location"], timeout=10) as served:
            assert served.read() == b"x"
