"""``serve`` through the blueprint: ranges, conditional requests, safe headers."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask, current_app
from werkzeug.test import TestResponse

from flask_fs import Storage
from flask_fs.config import config_key_prefix

from .fixtures import ConformanceFixtures

CONTENT = bytes(range(256)) * 40  # 10,240 bytes


class ServingTests(ConformanceFixtures):
    def _get(
        self, app: Flask, storage: Storage, name: str, headers: dict[str, str] | None = None
    ) -> TestResponse:
        return app.test_client().get(f"/{storage.name}/{quote(name)}", headers=headers or {})

    def test_serve_a_file(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("dir/file.txt", CONTENT)
        response = self._get(fs_app, storage, "dir/file.txt")
        assert response.status_code == 200
        assert response.data == CONTENT
        assert response.headers["Content-Length"] == str(len(CONTENT))
        assert response.mimetype == "text/plain"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers.get("ETag")
        assert response.headers.get("Last-Modified")
        assert "attachment" not in response.headers.get("Content-Disposition", "")

    def test_range_request(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("file.bin", CONTENT)
        response = self._get(fs_app, storage, "file.bin", {"Range": "bytes=100-199"})
        assert response.status_code == 206
        assert response.data == CONTENT[100:200]
        assert response.headers["Content-Range"] == f"bytes 100-199/{len(CONTENT)}"
        suffix = self._get(fs_app, storage, "file.bin", {"Range": "bytes=-10"})
        assert suffix.status_code == 206
        assert suffix.data == CONTENT[-10:]

    def test_range_past_the_end_is_416(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("file.bin", CONTENT)
        response = self._get(fs_app, storage, "file.bin", {"Range": "bytes=999999-"})
        assert response.status_code == 416

    def test_a_suffix_range_longer_than_the_file_is_the_whole_file(
        self, fs_app: Flask, storage: Storage
    ) -> None:
        storage.write("file.bin", CONTENT)
        response = self._get(fs_app, storage, "file.bin", {"Range": f"bytes=-{len(CONTENT) + 1}"})
        assert response.status_code == 206
        assert response.data == CONTENT
        assert response.headers["Content-Range"] == f"bytes 0-{len(CONTENT) - 1}/{len(CONTENT)}"

    @pytest.mark.parametrize(
        "ranges", ["bytes=0-9,20-29", "bytes=-5,0-4", "bytes=0-9,99999-", "bytes=x-y", "items=0-9"]
    )
    def test_ranges_to_ignore_give_the_whole_file(
        self, fs_app: Flask, storage: Storage, ranges: str
    ) -> None:
        """Several ranges, a malformed Range or another unit: ignored, as RFC 9110 allows."""
        storage.write("file.bin", CONTENT)
        response = self._get(fs_app, storage, "file.bin", {"Range": ranges})
        assert response.status_code == 200
        assert response.data == CONTENT

    def test_a_failed_if_match_is_412_without_a_body(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("file.bin", CONTENT)
        etag = self._get(fs_app, storage, "file.bin").headers["ETag"]
        for headers in (
            {"If-Match": '"not-it"'},
            {"If-Match": '"not-it"', "Range": "bytes=0-9"},
            {"If-Match": f"W/{etag}"},  # If-Match compares strongly: a weak tag never matches
            {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        ):
            response = self._get(fs_app, storage, "file.bin", headers)
            assert response.status_code == 412, headers
            assert response.data == b"", headers
        for headers in ({"If-Match": etag}, {"If-Match": "*"}, {"If-Match": f'"other", {etag}'}):
            response = self._get(fs_app, storage, "file.bin", headers)
            assert response.status_code == 200, headers
            assert response.data == CONTENT

    def test_preconditions_come_before_the_range(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("file.bin", CONTENT)
        etag = self._get(fs_app, storage, "file.bin").headers["ETag"]
        ranged = {"Range": "bytes=0-9"}
        not_modified = self._get(fs_app, storage, "file.bin", {"If-None-Match": etag, **ranged})
        assert not_modified.status_code == 304
        assert not_modified.data == b""
        current = self._get(fs_app, storage, "file.bin", {"If-Range": etag, **ranged})
        assert current.status_code == 206
        assert current.data == CONTENT[:10]
        changed = self._get(fs_app, storage, "file.bin", {"If-Range": '"old"', **ranged})
        assert changed.status_code == 200
        assert changed.data == CONTENT

    def test_if_none_match_gives_304(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("file.bin", CONTENT)
        etag = self._get(fs_app, storage, "file.bin").headers["ETag"]
        response = self._get(fs_app, storage, "file.bin", {"If-None-Match": etag})
        assert response.status_code == 304
        assert response.data == b""
        other = self._get(fs_app, storage, "file.bin", {"If-None-Match": '"not-it"'})
        assert other.status_code == 200

    def test_if_modified_since_gives_304(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("file.bin", CONTENT)
        modified = self._get(fs_app, storage, "file.bin").headers["Last-Modified"]
        response = self._get(fs_app, storage, "file.bin", {"If-Modified-Since": modified})
        assert response.status_code == 304

    @pytest.mark.parametrize("name", ["page.html", "image.svg", "data.xml", "script.js"])
    def test_active_content_is_an_attachment(
        self, fs_app: Flask, storage: Storage, name: str
    ) -> None:
        storage.write(name, b"<script>alert(1)</script>")
        response = self._get(fs_app, storage, name)
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"

    def test_non_ascii_names_are_served(self, fs_app: Flask, storage: Storage) -> None:
        storage.write("été/文件.txt", b"x")
        response = self._get(fs_app, storage, "été/文件.txt")
        assert response.status_code == 200
        assert response.data == b"x"

    def test_missing_files_and_storages_are_404(self, fs_app: Flask, storage: Storage) -> None:
        assert self._get(fs_app, storage, "missing.txt").status_code == 404
        assert fs_app.test_client().get("/no-such-storage/file.txt").status_code == 404

    def test_cache_control_setting(self, fs_app: Flask, storage: Storage) -> None:
        """``CACHE_CONTROL`` is the header of what serves the file (200, 206, 304), not of a
        refused precondition."""
        storage.write("file.bin", CONTENT)
        fs_app.config[config_key_prefix(storage.name) + "CACHE_CONTROL"] = "public, max-age=60"
        storage.configure(fs_app)
        etag = self._get(fs_app, storage, "file.bin").headers["ETag"]
        for headers, status in (
            ({}, 200),
            ({"Range": "bytes=0-9"}, 206),
            ({"If-None-Match": etag}, 304),
            ({"If-Match": '"not-it"'}, 412),
        ):
            response = self._get(fs_app, storage, "file.bin", headers)
            assert response.status_code == status, headers
            cached = response.headers.get("Cache-Control") == "public, max-age=60"
            assert cached is (status != 412), (headers, response.headers.get("Cache-Control"))

    def test_serve_method_returns_a_response(self, storage: Storage) -> None:
        storage.write("file.txt", CONTENT)
        response = storage.serve("file.txt")
        response.direct_passthrough = False
        assert response.status_code == 200
        assert response.get_data() == CONTENT
        response.close()


SMALL = bytes(range(256)) * 16  # 4 KiB, what check_one_request_each serves


def _cases(etag: str, modified: str) -> list[tuple[str, dict[str, str], int, slice | None, int]]:
    """What :func:`check_one_request_each` asks: method, headers, the status, the body (a slice
    of the content; ``None``: empty) and how many requests to the store it may cost."""
    return [
        ("GET", {}, 200, slice(None), 1),
        ("GET", {"Range": "bytes=100-199"}, 206, slice(100, 200), 1),
        ("GET", {"Range": "bytes=-10"}, 206, slice(-10, None), 1),
        ("GET", {"Range": f"bytes=-{len(SMALL) + 5}"}, 206, slice(None), 1),
        ("GET", {"Range": "bytes=999999-"}, 416, None, 2),  # the 416 may not give the size
        ("GET", {"If-None-Match": etag}, 304, None, 1),
        ("GET", {"If-None-Match": f"W/{etag}", "Range": "bytes=0-9"}, 304, None, 1),
        ("GET", {"If-Modified-Since": modified}, 304, None, 1),
        ("GET", {"If-Match": '"not-it"'}, 412, None, 1),
        ("GET", {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 412, None, 1),
        ("GET", {"If-Match": etag, "Range": "bytes=0-9"}, 206, slice(0, 10), 1),
        ("GET", {"If-Match": f'"other", {etag}'}, 200, slice(None), 1),
        ("GET", {"If-None-Match": '"other"'}, 200, slice(None), 1),
        ("HEAD", {}, 200, None, 1),
    ]


@contextlib.contextmanager
def waitress_server(app: Flask, threads: int = 4) -> Iterator[str]:
    """``app`` served by waitress (which must be installed) on a free port of 127.0.0.1, in a
    thread, until the block ends; gives the base URL. Waitress hands what a
    ``wsgi.file_wrapper`` wraps to its I/O thread: serving must not let it read remote files."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Workers first: one finishing a response pulls the trigger, which must still be open.
        server.task_dispatcher.shutdown(cancel_pending=False)
        try:
            server.trigger.pull_trigger(server.close)  # in the server's thread
        except OSError:  # its loop closed the trigger already (EBADF): it is ending
            server.close()
        thread.join(5)


def _fetch(base: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def check_one_request_each(storage: Storage, requests: Callable[[], list[str]]) -> None:
    """Serve a file of ``storage`` through the serving view, over HTTP from waitress, in every
    way a client asks, and check each answer and that it cost one request to the store (a Range
    past the end may cost two). ``requests()`` gives the requests the store received for that
    file since the last call (e.g. from a :class:`~flask_fs.testing.faults.FaultProxy` in front
    of it)."""
    storage.write("served.bin", SMALL)
    path = f"/{storage.name}/served.bin"
    with waitress_server(current_app._get_current_object()) as base:  # type: ignore[attr-defined]
        _, first, _ = _fetch(base, "GET", path, {})
        etag, modified = first["ETag"], first["Last-Modified"]
        requests()
        for method, headers, status, part, most in _cases(etag, modified):
            got, answer, data = _fetch(base, method, path, headers)
            sent = requests()
            case = (method, headers, sent)
            assert got == status, case
            assert 1 <= len(sent) <= most, case
            if status == 416:
                assert answer["Content-Range"] == f"bytes */{len(SMALL)}", case
            else:
                assert data == (SMALL[part] if part is not None else b""), case
            if status in (200, 206, 304):
                assert answer["ETag"] == etag, case
