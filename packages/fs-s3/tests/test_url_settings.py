"""S3's URL settings: the core SIGNED_URLS and URL_EXPIRES, SIGNED_URL_EXPIRY a deprecated alias."""

from __future__ import annotations

import time
import warnings
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from flask_fs.testing import temporary_storage


def _expires_of(url: str | None) -> float:
    """How long ``url`` works, in seconds: SigV4 says so, SigV2 gives the end time."""
    assert url is not None
    query = parse_qs(urlsplit(url).query)
    if "X-Amz-Expires" in query:
        return int(query["X-Amz-Expires"][0])
    return int(query["Expires"][0]) - time.time()


def test_signed_url_expiry_is_a_deprecated_url_expires(s3_settings: dict[str, Any]) -> None:
    with (
        pytest.warns(DeprecationWarning, match="SIGNED_URL_EXPIRY is deprecated, use URL_EXPIRES"),
        temporary_storage(
            "s3", s3_settings, "s3test", SIGNED_URLS=True, SIGNED_URL_EXPIRY=60
        ) as storage,
    ):
        assert _expires_of(storage.url("a.txt")) == pytest.approx(60, abs=2)


def test_url_expires(s3_settings: dict[str, Any]) -> None:
    with (
        warnings.catch_warnings(),
        temporary_storage("s3", s3_settings, "s3test", SIGNED_URLS=True, URL_EXPIRES=120) as s,
    ):
        warnings.simplefilter("error", DeprecationWarning)
        assert s.backend.has_signed_urls
        assert _expires_of(s.url("a.txt")) == pytest.approx(120, abs=2)


def test_expires_presigns_without_signed_urls(s3_settings: dict[str, Any]) -> None:
    """The store signs what url(expires=...) asks, SIGNED_URLS off or not."""
    with temporary_storage("s3", s3_settings, "s3test") as storage:
        assert not storage.backend.has_signed_urls
        assert _expires_of(storage.url("a.txt", expires=30)) == pytest.approx(30, abs=2)
