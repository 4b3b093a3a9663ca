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
