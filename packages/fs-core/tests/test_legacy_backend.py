"""A backend written to the 0.4.0 manual's ``BaseBackend`` works unmodified (issue 14, item 3)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.backends.direct import STAGING_FOLDER
from flask_fs.errors import FileExists, FileNotFound, InvalidFilename


@pytest.fixture
def legacy(app: Flask, install_backend: Any) -> Iterator[fs.Storage]:
    install_backend("legacy_backend", {"legacy": "LegacyBackend"})
    app.config.update(FS_BACKEND="legacy", FS_LEGACY_HOST="db.example.com", FS_LEGACY_PORT=1234)
    store = fs.Storage("legacy")
    fs.init_app(app, store)
    with app.test_request_context():
        yield store
    sys.modules["fs_legacy_backend_test"].FILES.clear()


def test_it_receives_its_backend_level_keys(legacy: fs.Storage) -> None:
    config = sys.modules["fs_legacy_backend_test"].CONFIGS["legacy"]
    assert (config["host"], config["port"]) == ("db.example.com", 1234)


def test_the_quick_start_runs_on_it(legacy: fs.Storage) -> None:
    legacy.write("my.file", "content")
    assert legacy.read("my.file") == b"content"
    with legacy.open("my.file", "wb") as f:
        f.write(b"new content")
    assert legacy.read("my.file") == b"new content"
    with legacy.open("my.file") as f:
        assert f.read() == "new content"
    assert legacy.exists("my.file")
    assert "my.file" in legacy
    legacy.delete("my.file")
    assert not legacy.exists("my.file")


def test_overwrite_and_missing_files(legacy: fs.Storage) -> None:
    legacy.write("a.txt", b"one")
    with pytest.raises(FileExists):
        legacy.write("a.txt", b"two")
    with pytest.raises(FileExists):
        legacy.save(io.BytesIO(b"two"), "a.txt")
    with pytest.raises(FileExists), legacy.open("a.txt", "xb") as f:
        f.write(b"two")
    assert legacy.read("a.txt") == b"one"
    legacy.write("a.txt", b"three", overwrite=True)
    assert legacy.read("a.txt") == b"three"
    for operation in (legacy.read, legacy.delete, legacy.metadata):
        with pytest.raises(FileNotFound):
            operation("missing.txt")
    with pytest.raises(FileNotFound):
        legacy.open("missing.txt", "rb")


def test_the_newer_contract_is_derived(legacy: fs.Storage) -> None:
    legacy.write("dir/a.txt", b"hello")
    legacy.save(io.BytesIO(b"streamed"), "dir/b.txt")
    legacy.write("c.txt", io.BytesIO(b"from a file object"))
    assert list(legacy.list_files()) == ["c.txt", "dir/a.txt", "dir/b.txt"]
    assert list(legacy.list_files("dir/")) == ["dir/a.txt", "dir/b.txt"]
    meta = legacy.metadata("dir/a.txt")
    assert meta["size"] == 5
    assert meta["checksum"].startswith("sha256:2cf24dba")
    with legacy.backend.open_read("dir/b.txt") as f:
        assert f.read() == b"streamed"
    legacy.copy("dir/a.txt", "copy.txt")
    legacy.move("copy.txt", "moved.txt")
    assert legacy.read("moved.txt") == b"hello"
    assert legacy.read("c.txt") == b"from a file object"
    assert not legacy.exists("copy.txt")


def test_listing_with_details_is_derived(legacy: fs.Storage) -> None:
    legacy.write("dir/a.txt", b"hello")
    legacy.write("c.json", b"{}")
    infos = list(legacy.list_files(details=True))
    assert [(i.name, i.size, i.mime) for i in infos] == [
        ("c.json", 2, "application/json"),
        ("dir/a.txt", 5, "text/plain"),
    ]
    assert infos[1].checksum == legacy.metadata("dir/a.txt")["checksum"]
    assert [i.name for i in legacy.list_files("dir/", details=True)] == ["dir/a.txt"]


def test_its_own_serve_is_used(app: Flask, legacy: fs.Storage) -> None:
    legacy.write("a.txt", b"served")
    response = legacy.serve("a.txt")
    response.direct_passthrough = False
    assert response.get_data() == b"served"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_listings_leave_out_direct_uploads_it_keeps(legacy: fs.Storage) -> None:
    staged = f"{STAGING_FOLDER}/0123/part-1"
    legacy.backend.write(staged, b"a browser's part")  # as a direct upload keeps it
    legacy.write("a/b.txt", b"x")
    legacy.write(".fs-notes", b"y")  # a file whose name shares the staging folder's start
    for prefix in (None, "", ".f", ".fs-", ".fs-tmp"):
        expected = sorted(n for n in ("a/b.txt", ".fs-notes") if n.startswith(prefix or ""))
        assert sorted(legacy.list_files(prefix)) == expected, prefix
        assert sorted(i.name for i in legacy.list_files(prefix, details=True)) == expected
    assert list(legacy.list_files("a/")) == ["a/b.txt"]
    assert [info.size for info in legacy.list_files("a", details=True)] == [1]
    with pytest.raises(InvalidFilename):  # the reserved folder is not the application's to list
        list(legacy.list_files(STAGING_FOLDER + "/"))
