"""Swift TempURLs, fetched with a real HTTP client from the Swift server.

Swift refuses an expired or altered TempURL with 401 (not 403). Its signature does not cover
the ``filename`` and ``inline`` parameters: whoever holds a URL can change the disposition
(:meth:`TestSwiftTempURLs.test_swift_does_not_sign_the_disposition` shows it), so active content
is linked through the serving view instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from swiftclient.client import Connection

from flask_fs.storage import Storage
from flask_fs.testing import temporary_storage
from flask_fs.testing.signed_links import CONTENT, SignedLinkTests, disposition, http_get

ACCOUNT_KEY = "flask-fs-tempurl-key"  # the account key test_swift.py sets too
CONTAINER_KEY = "x-container-meta-temp-url-key"


class TestSwiftTempURLs(SignedLinkTests):
    """flask_fs.testing's signed-link checks, on TempURLs signed with the account's key."""

    refused_status = 401

    @pytest.fixture
    def link_storage(self, swift_settings: dict[str, Any], swift: Connection) -> Iterator[Storage]:
        swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": ACCOUNT_KEY})
        settings = {**swift_settings, "TEMPURL_KEY": ACCOUNT_KEY}
        app_config = {"SECRET_KEY": "the view signs what Swift cannot"}
        with temporary_storage("swift", settings, "links", app_config) as storage:
            yield storage

    def test_a_temp_url_is_inline_by_default(self, link_storage: Storage) -> None:
        """Swift's own default is an attachment; the contract's is inline."""
        link_storage.write("file.bin", CONTENT)
        assert disposition(self.sign(link_storage, "file.bin"))[0] == "inline"

    @pytest.mark.parametrize("filename", ["page.html", "image.svg"])
    @pytest.mark.parametrize("inline", [None, True])
    def test_active_content_is_an_attachment(
        self, link_storage: Storage, filename: str, inline: bool | None
    ) -> None:
        """A TempURL's signature does not cover ``filename`` and ``inline``: whoever holds one
        could ask for active content inline. So active content gets no TempURL but a link to
        the serving view, signed by the application (tests-integration/test_signed_urls.py
        fetches those, Swift included)."""
        link_storage.write(filename, b"<svg xmlns='http://www.w3.org/2000/svg'/>")
        for download_name in (None, "shown.html"):
            url = self.sign(link_storage, filename, download_name=download_name, inline=inline)
            assert url.startswith(f"http://fs.test/{link_storage.name}/{filename}?"), url
            assert "signature=" in url
            assert "temp_url_sig" not in url

    def test_swift_does_not_sign_the_disposition(self, link_storage: Storage) -> None:
        """Why active content is not given a TempURL: ``&inline`` added to one is obeyed."""
        link_storage.write("page.txt", b"<script>alert(1)</script>")
        url = self.sign(link_storage, "page.txt", inline=False)
        assert disposition(url)[0] == "attachment"
        assert disposition(url + "&inline")[0] == "inline"


def sign(storage: Storage, filename: str, **options: Any) -> str:
    url = storage.backend.signed_url_of(filename, **options)  # type: ignore[attr-defined]
    assert isinstance(url, str)
    return url


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
