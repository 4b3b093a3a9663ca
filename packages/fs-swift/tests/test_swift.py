"""What is particular to the Swift backend: large objects, temp URLs, errors, listing pages."""

from __future__ import annotations

import hashlib
import io
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
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


def test_listing_pages(
    storage: fs.Storage, monkeypatch: pytest.MonkeyPatch, count_swift_requests: Any
) -> None:
    monkeypatch.setattr(swift_backend, "LISTING_PAGE", 100)  # the real page is 10,000
    names = [f"many/{i:04d}.txt" for i in range(250)]
    backend = storage.backend
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: backend.write(n, b"x"), names))
    assert list(storage.list_files("many/")) == names
    details: list[fs.FileInfo] = []
    requests = count_swift_requests(
        storage, lambda: details.extend(storage.list_files("many/", details=True))
    )
    assert [(i.name, i.size, i.mime) for i in details] == [(n, 1, "text/plain") for n in names]
    assert requests == 4  # three full pages and an empty one, no HEAD


@pytest.mark.parametrize(
    ("listed", "expected"),
    [
        ("2026-12-02T18:00:00.123456", datetime(2026, 12, 2, 18, 0, 0, 123456, timezone.utc)),
        ("2026-12-02T18:00:00", datetime(2026, 12, 2, 18, 0, 0, tzinfo=timezone.utc)),
        ("2026-12-02T19:00:00+01:00", datetime(2026, 12, 2, 18, 0, 0, tzinfo=timezone.utc)),
    ],
)
def test_listed_times_are_utc(listed: str, expected: datetime) -> None:
    """A listing's date has no zone (UTC); one that has a zone is converted, not misread."""
    parsed = swift_backend._listed_time(listed)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


def test_listing_details_of_large_objects(
    storage: fs.Storage, swift: Connection, count_swift_requests: Any
) -> None:
    """A Static Large Object is listed with its whole size; a Dynamic Large Object (another
    tool's ``X-Object-Manifest``) is listed with 0 bytes, so that entry costs a HEAD."""
    content = b"s" * (5 * MiB)  # three 2 MiB segments
    storage.save(io.BytesIO(content), "slo.bin")
    container = storage.backend.container  # type: ignore[attr-defined]
    segments = f"{container}_segments"
    swift.put_container(segments)
    swift.put_object(segments, "dlo/1", b"a" * 100)
    swift.put_object(segments, "dlo/2", b"b" * 50)
    swift.put_object(container, "dlo.bin", b"", headers={"X-Object-Manifest": f"{segments}/dlo/"})
    storage.write("empty.txt", b"")
    details: list[fs.FileInfo] = []
    requests = count_swift_requests(
        storage, lambda: details.extend(storage.list_files(details=True))
    )
    assert [(i.name, i.size) for i in details] == [
        ("dlo.bin", 150),
        ("empty.txt", 0),
        ("slo.bin", len(content)),
    ]
    for info in details:
        assert info.size == storage.metadata(info.name)["size"]
    assert requests == 2 + 2  # the listing (a page, then an empty one), a HEAD per 0-byte entry
    storage.delete("dlo.bin")
    for name in ("dlo/1", "dlo/2"):
        swift.delete_object(segments, name)


def test_temp_urls_send_content_as_attachments(
    swift_settings: dict[str, Any], swift: Connection
) -> None:
    """Without a ``SECRET_KEY`` to sign a link to the serving view, active content gets a
    TempURL answered with ``Content-Disposition: attachment`` (unless someone adds ``inline``
    to it: with a ``SECRET_KEY`` it gets the view's link, test_swift_signed_urls.py)."""
    key = "flask-fs-tempurl-key"
    swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": key})
    with temporary_storage("swift", swift_settings, "swift", TEMPURL_KEY=key) as storage:
        storage.write("page.html", b"<script>alert(1)</script>")
        url = storage.url("page.html")
        assert url is not None
        assert "inline" not in url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Disposition"].startswith("attachment")


def test_serving_never_hashes_and_metadata_hashes_once(
    storage: fs.Storage, swift: Connection
) -> None:
    """An object written by another tool has no stored SHA-256: serving uses Swift's ETag;
    metadata computes the checksum once and stores it with the ETag of that version."""
    container = storage.backend.container  # type: ignore[attr-defined]
    storage.write("first.txt", b"makes the container")
    content = b"from another tool " * 1000
    swift.put_object(container, "foreign.txt", content)
    response = storage.serve("foreign.txt")
    assert response.headers["ETag"] == f'"{hashlib.md5(content).hexdigest()}"'
    response.close()
    assert "x-object-meta-sha256" not in swift.head_object(container, "foreign.txt")
    digest = hashlib.sha256(content).hexdigest()
    assert storage.metadata("foreign.txt")["checksum"] == f"sha256:{digest}"
    headers = swift.head_object(container, "foreign.txt")
    assert headers["x-object-meta-sha256"] == digest
    assert headers["content-type"] == "text/plain"  # the stored metadata kept the rest
    swift.put_object(  # replaced by another tool, which copies the old metadata along
        container,
        "foreign.txt",
        b"new",
        headers={
            "X-Object-Meta-Sha256": digest,
            "X-Object-Meta-Sha256-Etag": headers["etag"],
        },
    )
    new_digest = hashlib.sha256(b"new").hexdigest()
    assert storage.metadata("foreign.txt")["checksum"] == f"sha256:{new_digest}"
