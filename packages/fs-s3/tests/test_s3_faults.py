"""S3: what a lost reply, a replaced object and active content must not turn into."""

from __future__ import annotations

import hashlib
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import flask_fs as fs
from flask_fs.testing import temporary_storage
from flask_fs.testing.faults import FaultProxy

BUCKET = "flask-fs-tests"  # the bucket fixture's
#: Servers without object tagging (checksums of other tools' objects are then computed each time).
NO_TAGGING = {"swift-s3api"}


def test_a_lost_reply_to_a_create_is_not_a_file_exists(
    s3_settings: dict[str, Any], proxy: FaultProxy, s3: Any
) -> None:
    """The PUT landed, its reply was lost, botocore's retry met the object: 412. That object is
    the write's own, so the write succeeded."""
    settings = {**s3_settings, "ENDPOINT": f"http://{proxy.address}"}
    with temporary_storage("s3", settings, "lost") as storage:
        key = storage.backend.key_prefix + "a.txt"  # type: ignore[attr-defined]
        proxy.lose_reply(f"PUT /{BUCKET}/{key} ".encode())
        storage.write("a.txt", b"mine")
        assert proxy.fired == 1
        assert storage.read("a.txt") == b"mine"
        stored = s3.head_object(Bucket=BUCKET, Key=key)["Metadata"]["sha256"]
        assert stored == hashlib.sha256(b"mine").hexdigest()
        with pytest.raises(fs.errors.FileExists):  # a create that is not its own still fails
            storage.write("a.txt", b"someone else")


def test_signed_urls_send_active_content_as_attachments(s3_settings: dict[str, Any]) -> None:
    with temporary_storage("s3", s3_settings, "s3test", SIGNED_URLS=True) as storage:
        storage.write("page.html", b"<script>alert(1)</script>")
        storage.write("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
        storage.write("notes.txt", b"plain")
        for name, mime in (("page.html", "text/html"), ("image.svg", "image/svg+xml")):
            url = storage.url(name)
            assert url is not None
            query = parse_qs(urlsplit(url).query)
            assert query["response-content-disposition"] == ["attachment"]
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.headers["Content-Disposition"] == "attachment"
                assert response.headers["Content-Type"] == mime
        url = storage.url("notes.txt")
        assert url is not None
        assert "response-content-disposition" not in parse_qs(urlsplit(url).query)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Type"] == "text/plain"
            assert response.read() == b"plain"


def test_serve_redirect_sends_active_content_as_an_attachment(s3_settings: dict[str, Any]) -> None:
    with temporary_storage("s3", s3_settings, "s3test", SERVE_REDIRECT=True) as storage:
        storage.write("page.html", b"<p>hi</p>")
        location = storage.serve("page.html").headers["Location"]
        with urllib.request.urlopen(location, timeout=10) as response:
            assert response.headers["Content-Disposition"] == "attachment"
            assert response.read() == b"<p>hi</p>"


def test_a_checksum_computed_after_the_fact_is_remembered_for_that_version(
    s3_settings: dict[str, Any], s3: Any, s3_server: Any
) -> None:
    first, second = hashlib.sha256(b"first").hexdigest(), hashlib.sha256(b"second").hexdigest()
    with temporary_storage("s3", s3_settings, "s3test") as storage:
        key = storage.backend.key_prefix + "foreign.txt"  # type: ignore[attr-defined]
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"first")
        assert storage.metadata("foreign.txt")["checksum"] == f"sha256:{first}"
        etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
        if s3_server.name not in NO_TAGGING:
            tagging = s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
            assert {t["Key"]: t["Value"] for t in tagging} == {
                "sha256": first,
                "sha256-etag": etag,
            }
        tags = (
            {}
            if s3_server.name in NO_TAGGING
            else {"Tagging": f"sha256={first}&sha256-etag={etag}"}
        )
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"second", **tags)  # old tags copied along
        assert storage.metadata("foreign.txt")["checksum"] == f"sha256:{second}"


@pytest.mark.parametrize("size", [1024, 6 * 1024 * 1024])  # one PutObject, a multipart upload
def test_a_create_only_stream_sends_no_head_first_and_keeps_an_existing_file(
    s3_settings: dict[str, Any], proxy: FaultProxy, size: int
) -> None:
    """The server refuses the existing name when the upload is published (If-None-Match):
    close() raises FileExists, the file is intact, and no HEAD went before the upload."""
    settings = {
        **s3_settings,
        "ENDPOINT": f"http://{proxy.address}",
        "MULTIPART_THRESHOLD": 5 * 1024 * 1024,
        "MULTIPART_CHUNKSIZE": 5 * 1024 * 1024,
    }
    with temporary_storage("s3", settings, "stream") as storage:
        prefix = storage.backend.key_prefix  # type: ignore[attr-defined]
        storage.write("taken.bin", b"old")
        proxy.clear()
        with pytest.raises(fs.errors.FileExists), storage.open("taken.bin", "xb") as f:
            f.write(b"x" * size)
        assert storage.read("taken.bin") == b"old"
        sent = proxy.requests(f"/{prefix}taken.bin")
        assert not sent[0].startswith("HEAD"), sent
        with storage.open("new.bin", "xb") as f:
            f.write(b"y" * size)
        assert storage.read("new.bin") == b"y" * size
        heads = [line for line in proxy.requests(f"/{prefix}new.bin") if line.startswith("HEAD")]
        assert heads == [], heads


def test_metadata_of_a_multipart_file_is_one_request_once_looked_up(
    s3_settings: dict[str, Any], count_s3_requests: Any, s3_server: Any
) -> None:
    """A file uploaded in parts has its checksum in tags (or nowhere, without tagging): the
    first metadata() looks it up (or reads the file), the next ones are one HEAD."""
    settings = {
        **s3_settings,
        "MULTIPART_THRESHOLD": 5 * 1024 * 1024,
        "MULTIPART_CHUNKSIZE": 5 * 1024 * 1024,
    }
    content = bytes(range(256)) * (6 * 4096)  # 6 MiB: two parts
    with temporary_storage("s3", settings, "memo") as storage:
        with storage.open("big.bin", "wb") as f:
            f.write(content)
        expected = {"checksum": f"sha256:{hashlib.sha256(content).hexdigest()}"}
        first = count_s3_requests(storage, lambda: storage.metadata("big.bin"))
        assert first >= 2 if s3_server.name in NO_TAGGING else first == 2
        for _ in range(3):
            assert count_s3_requests(storage, lambda: storage.metadata("big.bin")) == 1
            assert storage.metadata("big.bin")["checksum"] == expected["checksum"]
        storage.write("big.bin", b"small now", overwrite=True)  # another version
        assert storage.metadata("big.bin")["checksum"] == (
            f"sha256:{hashlib.sha256(b'small now').hexdigest()}"
        )
