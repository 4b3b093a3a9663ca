"""``serve`` through the blueprint: ranges, conditional requests, safe headers."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from flask_fs import Storage

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

    def test_serve_method_returns_a_response(self, storage: Storage) -> None:
        storage.write("file.txt", CONTENT)
        response = storage.serve("file.txt")
        response.direct_passthrough = False
        assert response.status_code == 200
        assert response.get_data() == CONTENT
        response.close()
