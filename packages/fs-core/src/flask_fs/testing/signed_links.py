"""Signed links, fetched over real HTTP, whoever signs them: the store (S3, Swift) or the
application's serving view (local, GridFS, any backend whose store signs nothing).

A test class subclasses :class:`SignedLinkTests`, provides the ``link_storage`` fixture (a
storage whose files the test may write, the application context pushed when its URLs need one)
and, when its links are not :meth:`Storage.url`'s, overrides :meth:`~SignedLinkTests.sign`.
:attr:`~SignedLinkTests.refused_status` is what the signer answers to a link that is not valid
(403; Swift says 401).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from werkzeug.http import parse_options_header

from ..storage import Storage

CONTENT = bytes(range(256)) * 8
#: A download name with quotes, a space, a semicolon, non-ASCII letters and an emoji.
DOWNLOAD_NAME = 'Facture "mars"; été 2026 ✓.pdf'


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """A GET by urllib (no storage client): the status, headers and body the server answers."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def disposition(url: str) -> tuple[str, dict[str, str]]:
    """The ``Content-Disposition`` of a successful GET of ``url``, parsed."""
    status, headers, _ = http_get(url)
    assert status == 200, status
    return parse_options_header(headers["Content-Disposition"])


class SignedLinkTests:
    """What every signed link does: it serves its file (ranges too) until it expires, and
    nothing else; it carries the download name asked, intact and unable to add a header; it
    never shows active content inline."""

    refused_status = 403

    @pytest.fixture
    def link_storage(self) -> Storage:
        raise NotImplementedError("provide the link_storage fixture")

    def sign(self, storage: Storage, filename: str, **options: Any) -> str:
        """A signed link to ``filename`` (``options``: ``expires``, ``download_name``,
        ``inline``); five minutes unless ``expires`` says otherwise."""
        options.setdefault("expires", timedelta(minutes=5))
        url = storage.url(filename, True, **options)
        assert url is not None
        return url

    def assert_refused(self, url: str, secret: bytes) -> None:
        """``url`` is refused, and the answer does not hold ``secret``."""
        status, _, body = http_get(url)
        assert status == self.refused_status, status
        assert secret not in body

    def test_a_signed_link_serves_the_file_and_its_ranges(self, link_storage: Storage) -> None:
        link_storage.write("file.bin", CONTENT, overwrite=True)
        url = self.sign(link_storage, "file.bin")

        status, _, body = http_get(url)
        assert (status, body) == (200, CONTENT)
        status, headers, body = http_get(url, {"Range": "bytes=100-299"})
        assert (status, body) == (206, CONTENT[100:300])
        assert headers["Content-Range"] == f"bytes 100-299/{len(CONTENT)}"

    def test_a_signed_link_stops_working_when_it_expires(self, link_storage: Storage) -> None:
        link_storage.write("file.bin", CONTENT, overwrite=True)
        # S3 signs with a date in whole seconds: a link may lose up to one second of its life.
        signed = time.monotonic()
        url = self.sign(link_storage, "file.bin", expires=timedelta(seconds=3))
        assert http_get(url)[0] == 200
        time.sleep(max(0.0, signed + 4.5 - time.monotonic()))
        self.assert_refused(url, CONTENT)

    def test_a_link_altered_to_another_file_is_refused(self, link_storage: Storage) -> None:
        link_storage.write("mine.bin", CONTENT, overwrite=True)
        link_storage.write("other.bin", b"someone else's", overwrite=True)
        url = self.sign(link_storage, "mine.bin")
        altered = url.replace("/mine.bin?", "/other.bin?")
        assert altered != url
        self.assert_refused(altered, b"someone else's")

    def test_the_download_name_arrives_intact(self, link_storage: Storage) -> None:
        link_storage.write("invoice.pdf", b"%PDF-", overwrite=True)
        kind, params = disposition(
            self.sign(link_storage, "invoice.pdf", download_name=DOWNLOAD_NAME)
        )
        assert (kind, params["filename"]) == ("inline", DOWNLOAD_NAME)
        url = self.sign(link_storage, "invoice.pdf", download_name=DOWNLOAD_NAME, inline=False)
        kind, params = disposition(url)
        assert (kind, params["filename"]) == ("attachment", DOWNLOAD_NAME)
        kind, params = disposition(self.sign(link_storage, "invoice.pdf", inline=False))
        assert (kind, params["filename"]) == ("attachment", "invoice.pdf")

    def test_a_download_name_cannot_inject_a_header(self, link_storage: Storage) -> None:
        link_storage.write("file.txt", b"text", overwrite=True)
        url = self.sign(
            link_storage, "file.txt", download_name="a.txt\r\nSet-Cookie: evil=1\r\n\r\nx"
        )
        status, headers, body = http_get(url)
        assert (status, body) == (200, b"text")
        assert "Set-Cookie" not in headers
        _, params = parse_options_header(headers["Content-Disposition"])
        assert params["filename"] == "a.txtSet-Cookie: evil=1x"

    @pytest.mark.parametrize("filename", ["page.html", "image.svg"])
    @pytest.mark.parametrize("inline", [None, True])
    def test_active_content_is_an_attachment(
        self, link_storage: Storage, filename: str, inline: bool | None
    ) -> None:
        svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
        link_storage.write(filename, svg, overwrite=True)
        for download_name in (None, "shown.html"):
            url = self.sign(link_storage, filename, download_name=download_name, inline=inline)
            assert disposition(url)[0] == "attachment", (download_name, url)
