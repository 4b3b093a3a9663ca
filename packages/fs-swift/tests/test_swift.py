"""What is particular to the Swift backend: large objects, temp URLs, errors, listing pages."""

from __future__ import annotations

import hashlib
import io
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from swiftclient.client import Connection

import flask_fs as fs
from flask_fs.backends import swift as swift_backend
from flask_fs.errors import BackendError
from flask_fs.testing import temporary_storage

MiB = 1024 * 1024


@pytest.fixture
def storage(swift_settings: dict[str, Any]) -> Iterator[fs.Storage]:
    with temporary_storage("swift", swift_settings, "swift", SEGMENT_SIZE=2 * MiB) as storage:
        yield storage


def _segments(swift: Connection, storage: fs.Storage) -> list[str]:
    container = f"{storage.backend.container}_segments"  # type: ignore[attr-defined]
    try:
        return [item["name"] for item in swift.get_container(container, full_listing=True)[1]]
    except Exception:  # no segment container: no segments
        return []


def test_large_uploads_become_static_large_objects(storage: fs.Storage, swift: Connection) -> None:
    content = hashlib.sha256(b"seed").digest() * (5 * MiB // 32)  # 5 MiB: three segments
    storage.save(io.BytesIO(content), "big.bin")
    container = storage.backend.container  # type: ignore[attr-defined]
    assert swift.head_object(container, "big.bin")["x-static-large-object"] == "True"
    assert len(_segments(swift, storage)) == 3
    assert storage.read("big.bin") == content
    assert (
        storage.metadata("big.bin")["checksum"] == "sha256:" + hashlib.sha256(content).hexdigest()
    )
    storage.delete("big.bin")
    assert _segments(swift, storage) == []


def test_a_discarded_large_upload_leaves_no_segments(
    storage: fs.Storage, swift: Connection
) -> None:
    with pytest.raises(RuntimeError), storage.open("big.bin", "wb") as f:
        for _ in range(5):
            f.write(b"x" * MiB)
        raise RuntimeError("interrupted")
    assert not storage.exists("big.bin")
    assert _segments(swift, storage) == []


def test_temp_urls(swift_settings: dict[str, Any], swift: Connection) -> None:
    key = "flask-fs-tempurl-key"
    swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": key})
    with temporary_storage(
        "swift", swift_settings, "swift", TEMPURL_KEY=key, TEMPURL_EXPIRY=60
    ) as storage:
        storage.write("a.txt", b"temporary")
        url = storage.url("a.txt")
        assert url is not None
        assert "temp_url_sig=" in url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.read() == b"temporary"
    with temporary_storage(
        "swift", swift_settings, "swift", TEMPURL_KEY=key, SERVE_REDIRECT=True
    ) as storage:
        storage.write("b.txt", b"x")
        response = storage.serve("b.txt")
        assert response.status_code == 302
        assert "temp_url_sig=" in response.headers["Location"]


def test_bad_credentials(swift_server: Any) -> None:
    settings = {"AUTHURL": swift_server.authurl, "USER": swift_server.user, "KEY": "wrong"}
    with temporary_storage("swift", settings, "swift", RETRIES=0) as storage:
        with pytest.raises(BackendError, match=r"authentication failed|401") as info:
            storage.write("a.txt", b"x")
        assert storage.name in str(info.value)


def test_an_unreachable_proxy_fails_fast() -> None:
    settings = {"AUTHURL": "http://127.0.0.1:9/auth/v1.0", "USER": "u", "KEY": "k"}
    with temporary_storage("swift", settings, "swift", RETRIES=0, TIMEOUT=2) as storage:
        start = time.monotonic()
        with pytest.raises(BackendError, match=r"127\.0\.0\.1:9"):
            storage.exists("a.txt")
        assert time.monotonic() - start < 10


def test_listing_pages(storage: fs.Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(swift_backend, "LISTING_PAGE", 100)  # the real page is 10,000
    names = [f"many/{i:04d}.txt" for i in range(250)]
    backend = storage.backend
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: backend.write(n, b"x"), names))
    assert list(storage.list_files("many/")) == names
