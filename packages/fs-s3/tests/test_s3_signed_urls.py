"""S3 presigned URLs, fetched with a real HTTP client from each S3 server.

What each server does was measured here: SeaweedFS, moto and Swift's s3api all serve the file and
ranges and echo ``response-content-disposition`` as signed; SeaweedFS and Swift's s3api refuse an
expired or altered URL (403), but moto checks neither the expiry nor the signature of a presigned
URL (it serves anything): the tests assert that gap on moto, so that they say when it changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from flask_fs.storage import Storage
from flask_fs.testing import temporary_storage
from flask_fs.testing.signed_links import CONTENT, SignedLinkTests, http_get

#: The servers that check neither the expiry nor the signature of a presigned URL.
UNCHECKED = {"moto"}


class TestS3SignedLinks(SignedLinkTests):
    """flask_fs.testing's signed-link checks, and S3's own, on each S3 server."""

    @pytest.fixture
    def link_storage(self, s3_settings: dict[str, Any], s3_server: Any) -> Iterator[Storage]:
        self.server = s3_server.name
        with temporary_storage("s3", s3_settings, "links") as storage:
            yield storage

    def assert_refused(self, url: str, secret: bytes) -> None:
        """moto, which checks nothing, serves it: when it starts refusing, take it out of
        :data:`UNCHECKED`."""
        if self.server in UNCHECKED:
            status, _, body = http_get(url)
            assert (status, body) == (200, secret)
        else:
            super().assert_refused(url, secret)

    def test_a_url_with_an_altered_disposition_is_refused(self, link_storage: Storage) -> None:
        script = b"<script>alert(1)</script>"
        link_storage.write("page.html", script)
        url = self.sign(link_storage, "page.html")
        assert "attachment" in url
        self.assert_refused(url.replace("attachment", "inline"), script)

    def test_a_signed_disposition_holds_no_line_break(self, link_storage: Storage) -> None:
        link_storage.write("file.txt", b"text")
        url = self.sign(link_storage, "file.txt", download_name="a.txt\r\nX-Injected: yes")
        assert quote("\r\n") not in url
        assert quote("\n") not in url


def test_a_signed_url_is_sigv4_whatever_the_client_config(s3_settings: dict[str, Any]) -> None:
    settings = {**s3_settings, "CLIENT_CONFIG": {"signature_version": "s3"}}
    with temporary_storage("s3", settings, "sigv2") as storage:
        storage.write("file.bin", CONTENT)
        url = storage.url("file.bin", expires=60, download_name="a.bin")
        assert url is not None
        assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
        status, _, body = http_get(url)
        assert (status, body) == (200, CONTENT)
