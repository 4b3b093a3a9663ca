"""S3 presigned URLs, fetched with a real HTTP client from each S3 server.

What each server does was measured here: SeaweedFS, moto and Swift's s3api all serve the file and
ranges and echo ``response-content-disposition`` as signed; SeaweedFS and Swift's s3api refuse an
expired or altered URL (403), but moto checks neither the expiry nor the signature of a presigned
URL (it serves anything): the tests assert that gap on moto, so that they say when it changes.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any
from urllib.parse import quote

import pytest
from werkzeug.http import parse_options_header

from flask_fs.storage import Storage
from flask_fs.testing import temporary_storage

CONTENT = bytes(range(256)) * 8
#: A download name with a quote, a space, non-ASCII letters and an emoji.
NAME = 'Facture "mars" été 2026 ✓.pdf'
#: The servers that check neither the expiry nor the signature of a presigned URL.
UNCHECKED = {"moto"}


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """A GET by urllib (no boto3): the status, headers and body the server answers."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def assert_refused(server: Any, url: str, secret: bytes) -> None:
    """``url`` is refused, without ``secret`` in the answer (moto, which checks nothing,
    serves it: when it starts refusing, take it out of :data:`UNCHECKED`)."""
    status, _, body = http_get(url)
    if server.name in UNCHECKED:
        assert (status, body) == (200, secret)
    else:
        assert status == 403
        assert secret not in body


def sign(storage: Storage, filename: str, **options: Any) -> str:
    url = storage.backend.signed_url_of(filename, **options)  # type: ignore[attr-defined]
    assert isinstance(url, str)
    return url


@pytest.fixture
def storage(s3_settings: dict[str, Any]) -> Iterator[Storage]:
    with temporary_storage("s3", s3_settings, "signed") as storage:
        yield storage


def test_a_signed_url_serves_the_file_and_its_ranges(storage: Storage) -> None:
    storage.write("file.bin", CONTENT)
    url = sign(storage, "file.bin", expires=timedelta(minutes=5))

    status, _, body = http_get(url)
    assert (status, body) == (200, CONTENT)
    status, headers, body = http_get(url, {"Range": "bytes=100-299"})
    assert (status, body) == (206, CONTENT[100:300])
    assert headers["Content-Range"] == f"bytes 100-299/{len(CONTENT)}"


def test_a_signed_url_is_sigv4_whatever_the_client_config(
    s3_settings: dict[str, Any], s3_server: Any
) -> None:
    settings = {**s3_settings, "CLIENT_CONFIG": {"signature_version": "s3"}}
    with temporary_storage("s3", settings, "sigv2") as storage:
        storage.write("file.bin", CONTENT)
        url = sign(storage, "file.bin", download_name="a.bin")
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        status, _, body = http_get(url)
        assert (status, body) == (200, CONTENT)


def test_a_signed_url_stops_working_when_it_expires(storage: Storage, s3_server: Any) -> None:
    storage.write("file.bin", CONTENT)
    url = sign(storage, "file.bin", expires=timedelta(seconds=1))
    assert http_get(url)[0] == 200
    time.sleep(2.5)
    assert_refused(s3_server, url, CONTENT)


def test_a_url_altered_to_another_file_is_refused(storage: Storage, s3_server: Any) -> None:
    storage.write("mine.bin", CONTENT)
    storage.write("other.bin", b"someone else's")
    url = sign(storage, "mine.bin")
    altered = url.replace("/mine.bin?", "/other.bin?")
    assert altered != url
    assert_refused(s3_server, altered, b"someone else's")


def test_a_url_with_an_altered_disposition_is_refused(storage: Storage, s3_server: Any) -> None:
    script = b"<script>alert(1)</script>"
    storage.write("page.html", script)
    url = sign(storage, "page.html")
    assert "attachment" in url
    assert_refused(s3_server, url.replace("attachment", "inline"), script)


def test_the_download_name_arrives_intact(storage: Storage) -> None:
    storage.write("invoice.pdf", b"%PDF-")
    url = sign(storage, "invoice.pdf", download_name=NAME)
    status, headers, _ = http_get(url)
    assert status == 200
    kind, params = parse_options_header(headers["Content-Disposition"])
    assert (kind, params["filename"]) == ("inline", NAME)

    status, headers, _ = http_get(sign(storage, "invoice.pdf", download_name=NAME, inline=False))
    kind, params = parse_options_header(headers["Content-Disposition"])
    assert (kind, params["filename"]) == ("attachment", NAME)


def test_a_download_name_cannot_inject_a_header(storage: Storage) -> None:
    storage.write("file.txt", b"text")
    name = "a.txt\r\nX-Injected: yes\r\n\r\nbody"
    url = sign(storage, "file.txt", download_name=name)
    assert quote("\r\n") not in url
    status, headers, body = http_get(url)
    assert (status, body) == (200, b"text")
    assert "X-Injected" not in headers
    _, params = parse_options_header(headers["Content-Disposition"])
    assert params["filename"] == "a.txtX-Injected: yesbody"


@pytest.mark.parametrize("filename", ["page.html", "image.svg"])
@pytest.mark.parametrize("inline", [None, True])
def test_active_content_is_an_attachment(
    storage: Storage, filename: str, inline: bool | None
) -> None:
    storage.write(filename, b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>")
    for download_name in (None, "shown.html"):
        url = sign(storage, filename, download_name=download_name, inline=inline)
        status, headers, _ = http_get(url)
        assert status == 200
        kind, _ = parse_options_header(headers["Content-Disposition"])
        assert kind == "attachment"
