"""The Storage API as the spec's Quick Start and API reference show it, on the local backend."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.errors import (
    FileExists,
    FileNotFound,
    FSError,
    InvalidFilename,
    OperationNotSupported,
)


@pytest.fixture
def store(app: Flask) -> fs.Storage:
    store = fs.Storage("store")
    fs.init_app(app, store)
    return store


def test_quick_start(app: Flask) -> None:
    images = fs.Storage("images", fs.IMAGES)
    custom = fs.Storage("custom", ("bat", "sh"))
    store = fs.Storage("store", fs.AllExcept(fs.SCRIPTS + fs.EXECUTABLES))
    uploads = fs.Storage("uploads")
    fs.init_app(app, images, custom, store, uploads)
    with app.app_context():
        store.write("my.file", "content")
        assert store.read("my.file") == b"content"
        with store.open("my.file2", "wb") as f:
            f.write(b"binary")
        assert store.exists("my.file")
        assert "my.file2" in store
        store.delete("my.file")
        assert not store.exists("my.file")
        assert fs.by_name("images") is images
        assert fs.by_name("custom") is custom


def test_files_are_not_overwritable_by_default(app: Flask) -> None:
    store = fs.Storage("store")
    overwritable = fs.Storage("overwritable", overwrite=True)
    fs.init_app(app, store, overwritable)
    with app.app_context():
        store.write("a.txt", "1")
        with pytest.raises(FileExists):
            store.write("a.txt", "2")
        overwritable.write("a.txt", "1")
        overwritable.write("a.txt", "2")
        assert overwritable.read("a.txt") == b"2"


@pytest.mark.usefixtures("ctx")
def test_files_land_under_the_storage_root(app: Flask, store: fs.Storage) -> None:
    store.write("sub/dir/file.txt", b"x")
    expected = Path(app.config["FS_ROOT"]) / "store" / "sub" / "dir" / "file.txt"
    assert expected.read_bytes() == b"x"
    assert store.path("sub/dir/file.txt") == str(expected)


@pytest.mark.usefixtures("ctx")
def test_open_defaults_to_text_mode(store: fs.Storage) -> None:
    store.write("t.txt", "tëxt")
    with store.open("t.txt") as f:
        assert f.read() == "tëxt"
    with store.open("latin.txt", "w", encoding="latin-1") as f:
        f.write("é")
    assert store.read("latin.txt") == b"\xe9"


@pytest.mark.usefixtures("ctx")
def test_save_filestorage_and_plain_files(store: fs.Storage) -> None:
    assert store.save(FileStorage(io.BytesIO(b"a"), "Report 2024.TXT")) == "Report_2024.txt"
    assert store.save(FileStorage(io.BytesIO(b"b"), "x.txt"), "chosen.txt") == "chosen.txt"
    assert store.save(io.BytesIO(b"c"), "plain.txt") == "plain.txt"
    with pytest.raises(InvalidFilename, match="filename is required"):
        store.save(io.BytesIO(b"d"))
    assert store.read("chosen.txt") == b"b"


def test_upload_to_str_and_callable(app: Flask) -> None:
    fixed = fs.Storage("fixed", upload_to="uploads")
    dynamic = fs.Storage("dynamic", upload_to=lambda: "by/date")
    fs.init_app(app, fixed, dynamic)
    with app.app_context():
        assert fixed.save(FileStorage(io.BytesIO(b"x"), "a.txt")) == "uploads/a.txt"
        assert dynamic.save(io.BytesIO(b"x"), "b.txt") == "by/date/b.txt"
        assert fixed.save(io.BytesIO(b"x"), "c.txt", prefix="other") == "uploads/other/c.txt"
        assert fixed.exists("uploads/a.txt")
        assert dynamic.read("by/date/b.txt") == b"x"


@pytest.mark.usefixtures("ctx")
def test_save_overwrite_argument(store: fs.Storage) -> None:
    store.save(io.BytesIO(b"1"), "a.txt")
    with pytest.raises(FileExists):
        store.save(io.BytesIO(b"2"), "a.txt")
    store.save(io.BytesIO(b"3"), "a.txt", overwrite=True)
    assert store.read("a.txt") == b"3"


@pytest.mark.usefixtures("ctx")
def test_resolve_conflict(store: fs.Storage) -> None:
    store.write("folder/photo.jpg", b"x")
    assert store.resolve_conflict("folder", "photo.jpg") == "photo_1.jpg"
    store.write("folder/photo_1.jpg", b"x")
    assert store.resolve_conflict("folder", "photo.jpg") == "photo_2.jpg"
    assert store.resolve_conflict("", "photo.jpg") == "photo_1.jpg"


@pytest.mark.usefixtures("ctx")
def test_list_files(store: fs.Storage) -> None:
    for name in ("b.txt", "a/c.txt", "a/b/d.txt"):
        store.write(name, b"x")
    assert sorted(store.list_files()) == ["a/b/d.txt", "a/c.txt", "b.txt"]


@pytest.mark.usefixtures("ctx")
def test_list_files_with_details_validates_the_prefix(store: fs.Storage) -> None:
    for prefix in ("../", "/etc"):
        with pytest.raises(InvalidFilename):
            list(store.list_files(prefix, details=True))


@pytest.mark.usefixtures("ctx")
def test_metadata(store: fs.Storage) -> None:
    store.write("a.json", b"{}")
    meta = store.metadata("a.json")
    assert meta["size"] == 2
    assert meta["mime"] == "application/json"
    assert meta["checksum"] == (
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )


def test_url_without_serving_or_url_is_none(app: Flask, store: fs.Storage) -> None:
    with app.test_request_context():
        assert store.url("a.txt") is None
        assert store.base_url is None
        assert store.has_url is False


def test_url_when_serving(app: Flask) -> None:
    app.config.update(FS_SERVE=True, FS_PREFIX="/fs")
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.test_request_context():
        assert files.has_url
        assert files.url("a/b c.txt") == "/fs/files/a/b%20c.txt"
        assert files.url("a.txt", external=True) == "http://myserver.com/fs/files/a.txt"
        assert files.base_url == "http://myserver.com/fs/files/"


def test_copy_and_move_between_storages(app: Flask) -> None:
    src = fs.Storage("src")
    dst = fs.Storage("dst")
    fs.init_app(app, src, dst)
    with app.app_context():
        src.write("a.txt", b"payload")
        assert src.copy("a.txt", "copied.txt", to=dst) == "copied.txt"
        assert src.move("a.txt", to=dst) == "a.txt"
        assert dst.read("copied.txt") == dst.read("a.txt") == b"payload"
        assert not src.exists("a.txt")


def test_using_a_storage_outside_an_app_context(store: fs.Storage) -> None:
    with pytest.raises(FSError, match="application context"):
        store.read("a.txt")


def test_using_a_storage_that_was_not_initialised(app: Flask) -> None:
    fs.init_app(app)
    with app.app_context(), pytest.raises(FSError, match="not initialised"):
        fs.Storage("never").read("a.txt")


def test_using_an_app_without_init_app(tmp_path: Path) -> None:
    with Flask(__name__).app_context(), pytest.raises(FSError, match="init_app"):
        fs.Storage("x").read("a.txt")


def test_by_name_of_an_unknown_storage(app: Flask) -> None:
    fs.init_app(app)
    with app.app_context(), pytest.raises(fs.errors.UnknownStorage):
        fs.by_name("nope")


@pytest.mark.usefixtures("ctx")
def test_os_errors_become_backend_errors(app: Flask, store: fs.Storage) -> None:
    store.write("a.txt", b"x")
    root = Path(app.config["FS_ROOT"]) / "store"
    os.chmod(root, 0o500)
    try:
        if os.access(root, os.W_OK):  # root ignores permissions: make the folder a file instead
            os.chmod(root, 0o700)
            (root / "blocker").write_bytes(b"")
            with pytest.raises(fs.errors.NameConflict, match="'blocker' is a file"):
                store.write("blocker/b.txt", b"y")
        else:
            with pytest.raises(fs.errors.BackendError, match="'store'"):
                store.write("b.txt", b"y")
    finally:
        os.chmod(root, 0o700)


@pytest.mark.usefixtures("ctx")
def test_missing_files(store: fs.Storage) -> None:
    for operation in (store.read, store.delete, store.metadata, store.serve):
        with pytest.raises(FileNotFound):
            operation("missing.txt")


@pytest.mark.usefixtures("ctx")
def test_path_is_not_supported_without_direct_access(store: fs.Storage) -> None:
    class NoPaths(type(store.backend)):  # type: ignore[misc]
        path = fs.backends.BaseBackend.path

    backend = NoPaths("x", {"root": "/tmp/x"})
    with pytest.raises(OperationNotSupported):
        backend.path("a.txt")
