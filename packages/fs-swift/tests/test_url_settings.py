"""Swift's URL settings: TEMPURL_KEY signs (unless SIGNED_URLS is False), TEMPURL_EXPIRY is a
deprecated alias of the core URL_EXPIRES."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from swiftclient.client import Connection

from flask_fs.testing import temporary_storage

KEY = "flask-fs-tempurl-key"


@pytest.fixture
def tempurl_key(swift: Connection) -> str:
    swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": KEY})
    return KEY


def _expires_in(url: str | None) -> float:
    assert url is not None
    assert "temp_url_sig=" in url
    return int(parse_qs(urlsplit(url).query)["temp_url_expires"][0]) - time.time()


def test_tempurl_expiry_is_a_deprecated_url_expires(
    swift_settings: dict[str, Any], tempurl_key: str
) -> None:
    with (
        pytest.warns(DeprecationWarning, match="TEMPURL_EXPIRY is deprecated, use URL_EXPIRES"),
        temporary_storage(
            "swift", swift_settings, "swift", TEMPURL_KEY=tempurl_key, TEMPURL_EXPIRY=60
        ) as storage,
    ):
        assert 55 < _expires_in(storage.url("a.txt")) <= 61


def test_tempurl_key_signs_for_url_expires(
    swift_settings: dict[str, Any], tempurl_key: str
) -> None:
    with temporary_storage(
        "swift", swift_settings, "swift", TEMPURL_KEY=tempurl_key, URL_EXPIRES=120
    ) as storage:
        assert 115 < _expires_in(storage.url("a.txt")) <= 121
        assert 25 < _expires_in(storage.url("a.txt", expires=30)) <= 31


def test_signed_urls_false_turns_tempurls_off(
    swift_settings: dict[str, Any], tempurl_key: str
) -> None:
    """Unless a URL asks an expiry: the store still signs that one."""
    with temporary_storage(
        "swift", swift_settings, "swift", TEMPURL_KEY=tempurl_key, SIGNED_URLS=False
    ) as storage:
        assert storage.url("a.txt") is None  # no URL, no serving
        assert 25 < _expires_in(storage.url("a.txt", expires=30)) <= 31
