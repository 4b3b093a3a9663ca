"""The serving blueprint: registered only when FS_SERVE is on, under FS_PREFIX."""

from __future__ import annotations

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.serving import is_active


def _files(app: Flask) -> fs.Storage:
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        files.write("a.txt", b"hello")
    return files


def test_no_route_when_serving_is_off(app: Flask) -> None:
    app.config["FS_SERVE"] = False
    _files(app)
    assert "fs.get_file" not in app.view_functions
    assert app.test_client().get("/files/a.txt").status_code == 404


def test_route_under_the_prefix(app: Flask) -> None:
    app.config.update(FS_SERVE=True, FS_PREFIX="/static/fs")
    _files(app)
    client = app.test_client()
    assert client.get("/static/fs/files/a.txt").data == b"hello"
    assert client.get("/files/a.txt").status_code == 404


def test_init_app_twice_registers_one_blueprint(app: Flask) -> None:
    app.config["FS_SERVE"] = True
    _files(app)
    fs.init_app(app, fs.Storage("more"))
    assert app.test_client().get("/files/a.txt").data == b"hello"


@pytest.mark.parametrize(
    ("mime", "active"),
    [
        ("text/html", True),
        ("text/html; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("image/svg+xml", True),
        ("text/xml", True),
        ("application/xml", True),
        ("text/javascript", True),
        ("application/javascript", True),
        ("image/png", False),
        ("text/plain", False),
        ("application/pdf", False),
        (None, False),
    ],
)
def test_active_types(mime: str | None, active: bool) -> None:
    assert is_active(mime) is active


def test_cache_control_is_werkzeugs_unless_set(app: Flask) -> None:
    """Unset, served files keep werkzeug's ``no-cache``; ``FS_CACHE_CONTROL`` is every storage's,
    ``{NAME}_FS_CACHE_CONTROL`` one storage's."""
    app.config["FS_SERVE"] = True
    _files(app)
    assert app.test_client().get("/files/a.txt").headers["Cache-Control"] == "no-cache"


def test_cache_control_global_and_per_storage(app: Flask) -> None:
    app.config.update(
        FS_SERVE=True,
        FS_CACHE_CONTROL="public, max-age=600",
        MORE_FS_CACHE_CONTROL="private, max-age=5",
    )
    more = fs.Storage("more")
    fs.init_app(app, more)
    _files(app)
    with app.app_context():
        more.write("b.txt", b"b")
    client = app.test_client()
    assert client.get("/files/a.txt").headers["Cache-Control"] == "public, max-age=600"
    assert client.get("/more/b.txt").headers["Cache-Control"] == "private, max-age=5"
    assert "max-age" not in client.get("/files/missing.txt").headers.get("Cache-Control", "")


@pytest.mark.parametrize("value", [3600, "max-age=1\r\nSet-Cookie: x=1"])
def test_a_cache_control_that_is_not_a_header_value_is_refused(app: Flask, value: object) -> None:
    app.config["FILES_FS_CACHE_CONTROL"] = value
    with pytest.raises(fs.errors.ConfigurationError, match="'files': CACHE_CONTROL must be"):
        fs.init_app(app, fs.Storage("files"))
