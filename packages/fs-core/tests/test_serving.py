"""The serving blueprint: registered only when FS_SERVE is on, under FS_PREFIX."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import cast

import pytest
from flask import Flask, request
from werkzeug.http import parse_date

import flask_fs as fs
from flask_fs.serving import (
    Conditions,
    _file_response,
    content_disposition,
    is_active,
    make_conditional,
    send_status,
    send_stream,
    store_conditions,
    store_range,
)


def _files(app: Flask) -> fs.Storage:
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        files.write("a.txt", b"hello")
    return files


def test_unsigned_requests_404_when_serving_is_off(app: Flask) -> None:
    """The view is there for signed URLs only: an unsigned request finds nothing."""
    app.config["FS_SERVE"] = False
    files = _files(app)
    assert app.test_client().get("/files/a.txt").status_code == 404
    with app.test_request_context():
        assert files.url("a.txt") is None


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


DATE = "Wed, 21 Oct 2015 07:28:00 GMT"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"If-None-Match": 'W/"a"'}, {"if_none_match": '"a"'}),  # a weak comparison
        ({"If-None-Match": '"a", "b"', "If-Modified-Since": DATE}, {}),  # the date is overridden
        ({"If-None-Match": "*"}, {}),
        ({"If-Modified-Since": DATE}, {"if_modified_since": parse_date(DATE)}),
        ({"If-Match": '"a"'}, {"if_match": '"a"'}),
        ({"If-Match": '"a", W/"b"'}, {"if_match": '"a"'}),  # a weak tag never matches If-Match
        ({"If-Match": 'W/"a"', "If-Unmodified-Since": DATE}, {}),
        ({"If-Unmodified-Since": DATE}, {"if_unmodified_since": parse_date(DATE)}),
    ],
)
def test_the_preconditions_a_store_is_asked(
    app: Flask, headers: dict[str, str], expected: dict[str, object]
) -> None:
    """One ETag each, which every store compares as werkzeug does; nothing it could get wrong."""
    with app.test_request_context(headers=headers):
        assert store_conditions() == Conditions(**expected)  # type: ignore[arg-type]
    with app.test_request_context(method="POST", headers=headers):
        assert store_conditions() == Conditions()


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {"Range": "bytes=0-9"}, "bytes=0-9"),
        ("GET", {"Range": "bytes=-5"}, "bytes=-5"),
        ("GET", {"Range": "bytes=10-"}, "bytes=10-"),
        ("GET", {"Range": "bytes=0-9", "If-Range": '"a"'}, None),
        ("GET", {"Range": "bytes=0-9,20-29"}, None),
        ("GET", {"Range": "items=0-9"}, None),
        ("GET", {"Range": "bytes=9-0"}, None),
        ("HEAD", {"Range": "bytes=0-9"}, None),
    ],
)
def test_the_range_a_store_is_asked(
    app: Flask, method: str, headers: dict[str, str], expected: str | None
) -> None:
    with app.test_request_context(method=method, headers=headers):
        assert store_range() == expected


@pytest.mark.parametrize(
    ("name", "inline", "mime", "expected"),
    [
        (None, None, "text/plain", "inline"),
        ("report.pdf", None, "application/pdf", "inline; filename=report.pdf"),
        ("report.pdf", False, "application/pdf", "attachment; filename=report.pdf"),
        ("page.html", True, "text/html", "attachment; filename=page.html"),
        ('say "hi".txt', None, "text/plain", 'inline; filename="say \\"hi\\".txt"'),
        (
            "résumé.pdf",
            False,
            None,
            "attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
        ),
        ("a\r\nSet-Cookie: x=1.txt", False, None, 'attachment; filename="aSet-Cookie: x=1.txt"'),
        (
            "日本.txt",
            None,
            "text/plain",
            "inline; filename=.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
        ),
    ],
)
def test_content_disposition(
    name: str | None, inline: bool | None, mime: str | None, expected: str
) -> None:
    assert content_disposition(name, inline=inline, mime=mime) == expected


@pytest.mark.parametrize(
    ("name", "mime", "etag", "modified"),
    [
        ("docs/a.txt", "text/plain", "abc", datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)),
        ("été à.bin", "application/octet-stream", None, None),
        (
            "日本.png",
            "image/png",
            "d41d8cd98f00b204e9800998ecf8427e-2",
            datetime(2001, 1, 1, tzinfo=timezone.utc),
        ),
        ("page.html", "text/html", "x", None),
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_plain_request_is_answered_as_by_send_file(
    app: Flask,
    tmp_path: Path,
    name: str,
    mime: str,
    etag: str | None,
    modified: datetime | None,
    method: str,
) -> None:
    """The direct response to a request without Range or preconditions has the headers, status
    and body that send_file and make_conditional give it, for a stream and for a file."""
    data = b"0123456789" * 100
    path = tmp_path / "file"
    path.write_bytes(data)
    with app.test_request_context(method=method):
        for opened in (io.BytesIO(data), path.open("rb")):
            plain = send_stream(
                opened, name=name, size=len(data), mime=mime, etag=etag, modified=modified
            )
            opened.seek(0)
            full = make_conditional(_file_response(opened, name, mime, etag, modified), len(data))
            full.content_length = len(data)
            assert plain.status_code == full.status_code == 200
            assert plain.headers.pop("Date")
            assert full.headers.pop("Date")  # now: a second may pass between the two
            assert sorted(plain.headers.items()) == sorted(full.headers.items())
            assert b"".join(cast("Iterable[bytes]", plain.response)) == data
            opened.close()


@pytest.mark.parametrize("status", [304, 412])
def test_a_status_a_store_decided_is_answered_as_by_send_file(app: Flask, status: int) -> None:
    modified = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    with app.test_request_context(headers={"If-None-Match": '"abc"'}):
        for name, mime in (("a.txt", "text/plain"), ("été.png", "image/png")):
            direct = send_status(status, name=name, mime=mime, etag="abc", modified=modified)
            full = _file_response(io.BytesIO(), name, mime, "abc", modified)
            full.status_code = status
            assert direct.status_code == status
            assert sorted(direct.headers.items()) == sorted(full.headers.items())


@pytest.mark.parametrize(
    "headers",
    [
        {"If-None-Match": '"abc"'},
        {"If-None-Match": 'W/"abc"', "Range": "bytes=0-1"},
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": "Wed, 01 May 2024 12:00:00 GMT"},
        {"If-Modified-Since": "Wed, 01 May 2024 11:59:59 GMT"},
        {"If-Match": '"other"'},
        {"If-Match": '"abc"', "If-None-Match": "*"},
        {"If-Unmodified-Since": "Wed, 01 May 2024 11:00:00 GMT"},
        {"Range": "bytes=2-5"},
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_conditional_request_is_answered_as_by_make_conditional(
    app: Flask, headers: dict[str, str], method: str
) -> None:
    """304s and 412s are decided on the validators alone, as make_conditional decides them on
    the response's headers (Last-Modified in whole seconds)."""
    data = b"0123456789"
    modified = datetime(2024, 5, 1, 12, 0, 0, 500_000, tzinfo=timezone.utc)
    with app.test_request_context(method=method, headers=headers):
        direct = send_stream(
            io.BytesIO(data),
            name="a.txt",
            size=10,
            mime="text/plain",
            etag="abc",
            modified=modified,
        )
        full = make_conditional(
            _file_response(io.BytesIO(data), "a.txt", "text/plain", "abc", modified), 10
        )
        assert direct.status_code == full.status_code
        if direct.status_code in (304, 412):  # the headers sent (a 304 sends no length)
            sent = [sorted(r.get_wsgi_headers(request.environ).items()) for r in (direct, full)]
            assert sent[0] == sent[1]
