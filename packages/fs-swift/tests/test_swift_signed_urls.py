"""Swift TempURLs, fetched with a real HTTP client from the Swift server.

Swift refuses an expired or altered TempURL with 401 (not 403). Its signature does not cover
the ``filename`` and ``inline`` parameters: whoever holds a URL can change the disposition
(:func:`test_swift_does_not_sign_the_disposition` shows it).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from swiftclient.client import Connection
from werkzeug.http import parse_options_header

from flask_fs.storage import Storage
from flask_fs.testing import temporary_storage

ACCOUNT_KEY = "flask-fs-tempurl-key"  # the account key test_swift.py sets too
CONTENT = bytes(range(256)) * 8
#: A download name with a quote, a space, non-ASCII letters and an emoji.
NAME = 'Facture "mars" été 2026 ✓.pdf'
CONTAINER_KEY = "x-container-meta-temp-url-key"


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """A GET by urllib (no swiftclient): the status, headers and body the server answers."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def sign(storage: Storage, filename: str, **options: Any) -> str:
    url = storage.backend.signed_url_of(filename, **options)  # type: ignore[attr-defined]
    assert isinstance(url, str)
    return url


def disposition(url: str) -> tuple[str, dict[str, str]]:
    status, headers, _ = http_get(url)
    assert status == 200
    return parse_options_header(headers["Content-Disposition"])


@pytest.fixture
def storage(swift_settings: dict[str, Any], swift: Connection) -> Iterator[Storage]:
    swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": ACCOUNT_KEY})
    with temporary_storage("swift", swift_settings, "signed", TEMPURL_KEY=ACCOUNT_KEY) as storage:
        yield storage


def test_a_temp_url_serves_the_file_and_its_ranges(storage: Storage) -> None:
    storage.write("file.bin", CONTENT)
    url = sign(storage, "file.bin", expires=timedelta(minutes=5))

    status, headers, body = http_get(url)
    assert (status, body) == (200, CONTENT)
    assert headers["Content-Disposition"] == "inline"  # the contract's default, not Swift's
    status, headers, body = http_get(url, {"Range": "bytes=100-299"})
    assert (status, body) == (206, CONTENT[100:300])
    assert headers["Content-Range"] == f"bytes 100-299/{len(CONTENT)}"


def test_a_temp_url_stops_working_when_it_expires(storage: Storage) -> None:
    storage.write("file.bin", CONTENT)
    url = sign(storage, "file.bin", expires=timedelta(seconds=1))
    assert http_get(url)[0] == 200
    time.sleep(2.5)
    status, _, body = http_get(url)
    assert status == 401
    assert CONTENT not in body


def test_a_url_altered_to_another_file_is_refused(storage: Storage) -> None:
    storage.write("mine.bin", CONTENT)
    storage.write("other.bin", b"someone else's")
    url = sign(storage, "mine.bin")
    altered = url.replace("/mine.bin?", "/other.bin?")
    assert altered != url
    status, _, body = http_get(altered)
    assert status == 401
    assert b"someone else's" not in body


def test_the_download_name_arrives_intact(storage: Storage) -> None:
    storage.write("invoice.pdf", b"%PDF-")
    kind, params = disposition(sign(storage, "invoice.pdf", download_name=NAME))
    assert (kind, params["filename"]) == ("inline", NAME)
    kind, params = disposition(sign(storage, "invoice.pdf", download_name=NAME, inline=False))
    assert (kind, params["filename"]) == ("attachment", NAME)
    kind, params = disposition(sign(storage, "invoice.pdf", inline=False))
    assert (kind, params["filename"]) == ("attachment", "invoice.pdf")


def test_a_download_name_cannot_inject_a_header(storage: Storage) -> None:
    storage.write("file.txt", b"text")
    url = sign(storage, "file.txt", download_name="a.txt\r\nX-Injected: yes\r\n\r\nbody")
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
        assert disposition(url)[0] == "attachment"


def test_swift_does_not_sign_the_disposition(storage: Storage) -> None:
    """Swift's gap, documented in docs/backends.md: ``&inline`` added to a TempURL is obeyed."""
    storage.write("page.html", b"<script>alert(1)</script>")
    url = sign(storage, "page.html")
    assert disposition(url + "&inline")[0] == "inline"


def test_a_container_key_signs(swift_settings: dict[str, Any], swift: Connection) -> None:
    with temporary_storage("swift", swift_settings, "ckey") as storage:
        storage.write("file.bin", CONTENT)
        container = storage.backend.container  # type: ignore[attr-defined]
        swift.post_container(container, {"X-Container-Meta-Temp-URL-Key": "container-key"})
        with temporary_storage(
            "swift",
            {**swift_settings, "CONTAINER": container},
            "ckey2",
            TEMPURL_KEY="container-key",
        ) as same:
            status, _, body = http_get(sign(same, "file.bin"))
            assert (status, body) == (200, CONTENT)


def test_the_backend_sets_the_container_key_when_allowed(
    swift_settings: dict[str, Any], swift: Connection
) -> None:
    with temporary_storage("swift", swift_settings, "setkey") as storage:
        assert storage.backend.signed_url_of("file.bin") is None  # type: ignore[attr-defined]
    with temporary_storage("swift", swift_settings, "setkey", SET_TEMPURL_KEY=True) as storage:
        storage.write("file.bin", CONTENT)
        container = storage.backend.container  # type: ignore[attr-defined]
        assert CONTAINER_KEY not in swift.head_container(container)
        url = sign(storage, "file.bin")
        key = swift.head_container(container)[CONTAINER_KEY]
        assert len(key) >= 32
        status, _, body = http_get(url)
        assert (status, body) == (200, CONTENT)
        settings = {**swift_settings, "CONTAINER": container}
        with temporary_storage("swift", settings, "other", SET_TEMPURL_KEY=True) as other:
            status, _, body = http_get(sign(other, "file.bin"))  # the same key, kept
            assert (status, body) == (200, CONTENT)
        assert swift.head_container(container)[CONTAINER_KEY] == key
