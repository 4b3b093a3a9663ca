"""Signed URLs to the serving view: settings, URL forms, errors (served over real HTTP in
tests-integration/test_signed_urls.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.config import resolve_config
from flask_fs.errors import ConfigurationError, InvalidExpiry


def _files(app: Flask, **config: object) -> fs.Storage:
    app.config.update(SECRET_KEY="secret", **config)
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        files.write("a.txt", b"hello")
    return files


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_signing_settings_default_off_and_an_hour(app: Flask) -> None:
    config = resolve_config(app, "files", "local", {})
    assert (config.signed_urls, config.url_expires) == (None, 3600)


def test_signing_settings_cascade(app: Flask) -> None:
    app.config.update(FS_SIGNED_URLS="yes", FS_URL_EXPIRES=60, FS_LOCAL_URL_EXPIRES="120")
    assert resolve_config(app, "files", "local", {}).url_expires == 120
    app.config.update(FILES_FS_URL_EXPIRES=timedelta(minutes=5))
    config = resolve_config(app, "files", "local", {})
    assert (config.signed_urls, config.url_expires) == (True, 300)


@pytest.mark.parametrize("value", [0, -5, "soon"])
def test_url_expires_must_be_positive_seconds(app: Flask, value: object) -> None:
    app.config["FILES_FS_URL_EXPIRES"] = value
    with pytest.raises(ConfigurationError, match="URL_EXPIRES"):
        resolve_config(app, "files", "local", {})


def test_unsigned_urls_are_unchanged(app: Flask) -> None:
    files = _files(app, FS_SERVE=True)
    with app.test_request_context():
        assert files.url("a.txt") == "/files/a.txt"
        assert files.url("a.txt", True) == "http://myserver.com/files/a.txt"


def test_expires_signs_the_view_url(app: Flask) -> None:
    files = _files(app)
    with app.test_request_context():
        url = files.url("a.txt", expires=timedelta(minutes=2))
        assert url is not None
    assert urlsplit(url).path == "/files/a.txt"
    query = _query(url)
    assert set(query) == {"expires", "signature"}
    assert abs(int(query["expires"]) - (time.time() + 120)) < 3  # an absolute time
    assert app.test_client().get(url).data == b"hello"


def test_signed_urls_setting_signs_for_url_expires(app: Flask) -> None:
    files = _files(app, FILES_FS_SIGNED_URLS=True, FILES_FS_URL_EXPIRES=90)
    with app.test_request_context():
        assert files.has_url
        url = files.url("a.txt")
        assert url is not None
    assert abs(int(_query(url)["expires"]) - (time.time() + 90)) < 3


def test_a_download_name_alone_signs(app: Flask) -> None:
    """The disposition is part of what is signed: asking one gives a signed URL."""
    files = _files(app)
    with app.test_request_context():
        url = files.url("a.txt", download_name="b.txt")
        assert url is not None
    assert {"expires", "download_name", "signature"} <= set(_query(url))
    response = app.test_client().get(url)
    assert response.headers["Content-Disposition"] == "inline; filename=b.txt"


@pytest.mark.parametrize("expires", [0, -1, True, "60", timedelta(0), float("inf"), float("nan")])
def test_invalid_expires(app: Flask, expires: object) -> None:
    files = _files(app)
    with app.test_request_context(), pytest.raises(InvalidExpiry):
        files.url("a.txt", expires=expires)  # type: ignore[arg-type]


def test_view_signing_needs_a_secret_key(app: Flask) -> None:
    files = _files(app)
    app.config["SECRET_KEY"] = None
    with app.test_request_context(), pytest.raises(ConfigurationError, match="SECRET_KEY"):
        files.url("a.txt", expires=60)


def test_a_fallback_key_still_opens_urls_signed_before_rotation(app: Flask) -> None:
    files = _files(app)
    with app.test_request_context():
        url = files.url("a.txt", expires=60)
        assert url is not None
    app.config.update(SECRET_KEY="new secret", SECRET_KEY_FALLBACKS=["secret"])
    assert app.test_client().get(url).status_code == 200
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert app.test_client().get(url).status_code == 403


def test_a_cdn_in_front_of_the_view_keeps_its_signature(app: Flask) -> None:
    files = _files(app, FILES_FS_URL="https://cdn.example.com/files")
    with app.test_request_context():
        assert files.url("a b.txt") == "https://cdn.example.com/files/a%20b.txt"  # unsigned
        url = files.url("a.txt", expires=60, download_name="x.txt")
        assert url is not None
    assert url.startswith("https://cdn.example.com/files/a.txt?expires=")
    parts = urlsplit(url)
    response = app.test_client().get(f"{parts.path}?{parts.query}")  # what the CDN asks
    assert (response.status_code, response.data) == (200, b"hello")
    assert response.headers["Content-Disposition"] == "inline; filename=x.txt"


def test_a_signed_url_for_a_missing_file_is_404(app: Flask) -> None:
    """Its holder knows the name already: the signature was made for it."""
    files = _files(app)
    with app.test_request_context():
        url = files.url("later.txt", expires=60)
        assert url is not None
    assert app.test_client().get(url).status_code == 404
